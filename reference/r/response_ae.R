# Reference values from R for rwestudy.stats.response (and the CIs its tests use).
#
# Run from the repository root:
#     Rscript reference/r/response_ae.R
# Writes tests/fixtures/r/response_ae.json. Needs jsonlite.
#
# The response counts mirror tests/stats/test_response.py: 83 treated patients,
# best response CR 17, PR 22, SD 10, PD 24, NE 6, not assessed 4, so
# ORR = 39/83 and CR rate = 17/83 over all 83 (NE and missing included).
# By group: A (45) CR 12 PR 13 SD 5 PD 10 NE 3 NA 2; B (36) CR 5 PR 8 SD 5
# PD 13 NE 3 NA 2; 2 patients with no group (PR 1, PD 1; excluded from tests).

suppressPackageStartupMessages(library(jsonlite))

ci <- function(x, n, conf = 0.95) {
  b <- binom.test(x, n, conf.level = conf)
  list(x = x, n = n, conf_level = conf, low = b$conf.int[1], high = b$conf.int[2])
}

binom <- list(
  ci(17, 83), ci(22, 83), ci(10, 83), ci(24, 83), ci(6, 83), ci(4, 83),
  ci(39, 83), ci(39, 83, 0.90), ci(17, 83, 0.90),
  ci(25, 45), ci(12, 45), ci(13, 36), ci(5, 36), ci(1, 2), ci(0, 2),
  ci(3, 5), ci(0, 5)
)

# rows = group A, B; columns = responder yes, no
orr <- matrix(c(25, 13, 20, 23), nrow = 2)
cr <- matrix(c(12, 5, 33, 31), nrow = 2)
chisq <- function(m, correct) {
  t <- chisq.test(m, correct = correct)
  list(table = m, statistic = unname(t$statistic), df = unname(t$parameter), p = t$p.value)
}
# small table for Fisher: A CR 3 of 5, B CR 0 of 5
small <- matrix(c(3, 0, 2, 5), nrow = 2)

out <- list(
  generated_by = "reference/r/response_ae.R",
  r_version = R.version.string,
  binom_test = binom,
  orr_by_group = list(uncorrected = chisq(orr, FALSE), yates = chisq(orr, TRUE)),
  cr_by_group = list(uncorrected = chisq(cr, FALSE), yates = chisq(cr, TRUE)),
  cr_small_fisher = list(table = small, p = fisher.test(small)$p.value,
                         min_expected = min(suppressWarnings(chisq.test(small))$expected))
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/fixtures/r/response_ae.json")
