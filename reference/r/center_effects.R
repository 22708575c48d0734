# Reference values for the analysis' center-effects section (analysis/center_effects.py) on
# the demo study: the multivariate Cox model of OS and of PFS fitted model-based, stratified
# by center, with cluster-robust (sandwich) variance, and with a shared gamma frailty per center.
# Run from the repo root (after reference/r/export_center_effects.py wrote the frames):
#   Rscript reference/r/center_effects.R
# Writes tests/fixtures/r/center_effects.json (15 significant digits, jsonlite's maximum).
# Ties: Efron (the rwestudy profile's). Default coxph.control(), as the analysis uses R's
# defaults for the frailty search; tight control for the plain fits.
suppressPackageStartupMessages({library(survival); library(jsonlite)})
dd <- "tests/fixtures/r/data"
tight <- coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100)
out <- list()
for (e in c("OS", "PFS")) {
  d <- read.csv(file.path(dd, paste0("center_effects_", e, ".csv")))
  covs <- setdiff(names(d), c("time", "event", "center"))
  rhs <- paste(covs, collapse = " + ")
  f <- function(extra) as.formula(paste("Surv(time, event) ~", rhs, extra))
  fits <- list(
    "model-based" = coxph(f(""), data = d, ties = "efron", control = tight),
    "stratified by center" = coxph(f("+ strata(center)"), data = d, ties = "efron", control = tight),
    "cluster-robust (center)" = coxph(f(""), data = d, ties = "efron", cluster = center, control = tight),
    "shared gamma frailty (center)" = coxph(f("+ frailty(center, distribution = 'gamma')"), data = d,
                                            ties = "efron"))
  res <- list()
  for (m in names(fits)) {
    fit <- fits[[m]]
    b <- coef(fit)[covs]
    se <- sqrt(diag(vcov(fit)))[seq_along(covs)]
    r <- list(term = covs, hr = unname(exp(b)), se = unname(se))
    if (m == "shared gamma frailty (center)") r$theta <- fit$history[[1]]$history[nrow(fit$history[[1]]$history), 1]
    res[[m]] <- r
  }
  out[[e]] <- res
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE), "tests/fixtures/r/center_effects.json")
