# Reference values for the cluster-robust (sandwich) variance of rwestudy.stats.cox
# (cox(..., cluster=)) and for its score residuals, from R's survival package.
# Run from the repo root:  Rscript reference/r/cox_robust.R
# Reads the data reference/r/cox.R and survival_km_tests.R exported
# (tests/fixtures/r/data/cox_lung.csv, km_ties.csv); writes
# tests/fixtures/r/cox_robust.json.
#
# coxph(..., cluster = inst): "robust se" = sqrt(diag(t(D) %*% D)), D = the
# dfbeta residuals summed per cluster; residuals(fit, type = "score") are the
# per-row score residuals. Both ties methods; a stratified model; heavy ties.
suppressPackageStartupMessages({library(survival); library(jsonlite)})

dd <- "tests/fixtures/r/data"
lung <- read.csv(file.path(dd, "cox_lung.csv"))
lung <- lung[!is.na(lung$inst) & !is.na(lung$ph.ecog), ]
ties <- read.csv(file.path(dd, "km_ties.csv"))

case <- function(name, data, formula, ties_method, cluster) {
  f <- coxph(as.formula(formula), data = data, ties = ties_method,
             cluster = data[[cluster]],
             control = coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100))
  s <- summary(f)$coefficients
  list(name = name, formula = formula, ties = ties_method, cluster = cluster,
       coef = unname(coef(f)), se = unname(s[, "se(coef)"]), robust_se = unname(s[, "robust se"]),
       z = unname(s[, "z"]), p = unname(s[, "Pr(>|z|)"]),
       wald = unname(f$wald.test), n_rows = nrow(data),
       score_resid = unname(as.matrix(residuals(f, type = "score"))))
}

cases <- list(
  case("lung_efron", lung, "Surv(time, event) ~ age + sex + ph.ecog", "efron", "inst"),
  case("lung_breslow", lung, "Surv(time, event) ~ age + sex + ph.ecog", "breslow", "inst"),
  case("lung_strata", lung, "Surv(time, event) ~ age + ph.ecog + strata(sex)", "efron", "inst"),
  case("ties_efron", ties, "Surv(time, event) ~ arm", "efron", "site"),
  case("ties_breslow", ties, "Surv(time, event) ~ arm", "breslow", "site")
)
writeLines(toJSON(list(R = R.version.string, survival = as.character(packageVersion("survival")),
                       cases = cases), digits = I(17), auto_unbox = TRUE, na = "null"),
           "tests/fixtures/r/cox_robust.json")
cat("written tests/fixtures/r/cox_robust.json\n")
