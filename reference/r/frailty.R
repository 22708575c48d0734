# Reference values for rwestudy.stats.frailty (shared gamma frailty Cox model),
# computed with R's survival package.
# Run from the repo root:  Rscript reference/r/frailty.R
# Reads tests/fixtures/r/data/cox_lung.csv (written by reference/r/cox.R; rows
# with a missing inst dropped), generates two synthetic multicenter data sets
# and writes them to tests/fixtures/r/data/frailty_multicenter.csv (25 centers,
# times in whole months so there are many ties, one center without any event)
# frailty_fewcenters.csv (4 centers) and frailty_strongcenters.csv (12 centers,
# large center effects); writes tests/fixtures/r/frailty.json.
# Numbers are exported with 15 significant digits (jsonlite's maximum).
#
# Model: coxph(Surv(time, event) ~ x + frailty(center, distribution = "gamma"))
# with the default method = "em": theta is chosen by an outer search
# (frailty.controlgam) that maximises the approximate marginal ("I-")
# likelihood; for each theta the penalised partial likelihood is maximised by
# coxfit5 (a Newton iteration that keeps only the diagonal of the
# frailty-by-frailty block of the Hessian when there are more than 5 centers,
# the "sparse" case, and the full matrix otherwise). Default controls
# (coxph.control(): eps = 1e-9, iter.max = 20, outer.max = 10; frailty eps =
# 1e-5) on purpose: the Python code reproduces that algorithm, so the same
# theta sequence is visited and the same stopping point reached.
#
# What is kept per case:
#   coef, se (= R's "se(coef)", sqrt diag of fit$var, the inverse of the
#   penalised information), se2 (sqrt diag of fit$var2), var, var2;
#   theta = the variance of the random effect that was fitted and is printed
#   (last row of the search history; fit$history[[1]]$theta is the next
#   proposal, kept as theta_next); history (theta, loglik, c.loglik per outer
#   iteration); frail and fvar (per-center estimates and their variances;
#   the coefficients "gamma:<level>" in the non-sparse case); loglik =
#   fit$loglik (null and fitted partial log-likelihood), c_loglik (the
#   I-likelihood); df per term, iter = (outer, Newton-Raphson), penalty, and
#   the printed Wald chi-square of the frailty term with its df and p.
suppressPackageStartupMessages({library(survival); library(jsonlite)})

dd <- "tests/fixtures/r/data"
lung <- read.csv(file.path(dd, "cox_lung.csv"))
lung <- lung[!is.na(lung$inst), ]

write_data <- function(df, name) {
  out <- df
  for (v in names(out)) if (is.numeric(out[[v]])) out[[v]] <- sprintf("%.17g", out[[v]])
  write.csv(out, file.path(dd, paste0("frailty_", name, ".csv")), row.names = FALSE)
}

# ---- synthetic multicenter data ---------------------------------------------
# Center effects drawn from a gamma frailty with variance 0.4 (3 for "strong",
# where the I-likelihood still rises at theta = 2, so the search doubles theta); exponential event
# times, uniform censoring; times rounded up to whole months (ties).
simulate <- function(n, n_centers, seed, silent_center = NULL, variance = 0.4) {
  set.seed(seed)
  center <- sample(seq_len(n_centers), n, replace = TRUE, prob = seq(1, 3, length.out = n_centers))
  u <- rgamma(n_centers, shape = 1 / variance, scale = variance)
  x1 <- round(rnorm(n), 3)
  x2 <- rbinom(n, 1, 0.4)
  t_event <- rexp(n, rate = 0.05 * u[center] * exp(0.5 * x1 - 0.4 * x2))
  t_cens <- runif(n, 6, 60)
  time <- ceiling(pmin(t_event, t_cens))
  event <- as.integer(t_event <= t_cens)
  if (!is.null(silent_center)) event[center == silent_center] <- 0L
  data.frame(center = sprintf("C%02d", center), time = time, event = event, x1 = x1, x2 = x2)
}
multi <- simulate(600, 25, 20240516, silent_center = 25)
few <- simulate(160, 4, 7)
strong <- simulate(300, 12, 11, variance = 3)
write_data(multi, "multicenter")
write_data(few, "fewcenters")
write_data(strong, "strongcenters")

# ---- cases ------------------------------------------------------------------
describe <- function(name, data, formula, ties, cluster, outer_max = 10) {
  fit <- coxph(as.formula(formula), data = data, ties = ties,
               control = coxph.control(outer.max = outer_max))
  cf <- fit$coefficients
  fixed <- !grepl("^gamma:", names(cf))
  p <- sum(fixed)
  if (is.null(fit$frail)) {            # non-sparse: the frailties are coefficients
    frail <- unname(cf[!fixed]); fvar <- unname(diag(fit$var)[!fixed])
  } else {
    frail <- fit$frail; fvar <- fit$fvar
  }
  h <- fit$history[[1]]
  hist <- if (is.null(h$history)) NULL else unname(as.matrix(h$history))
  if (!is.null(hist) && is.null(dim(hist))) hist <- matrix(hist, nrow = 1)
  theta <- if (is.null(hist)) h$theta else hist[nrow(hist), 1]
  # the frailty line that print.coxph.penal shows (Wald chi-square, df, p)
  fterm <- fit$printfun[[1]](frail, if (is.null(fit$frail)) fit$var[!fixed, !fixed] else fvar, NULL,
                             fit$df[length(fit$df)], h)$coef
  list(
    name = name, formula = formula, ties = ties, cluster = cluster, outer_max = outer_max,
    converged = if (is.null(h$done)) NA else unname(h$done),
    n = fit$n, events = fit$nevent, n_clusters = length(frail),
    sparse = !is.null(fit$frail),
    terms = names(cf)[fixed], coef = unname(cf[fixed]),
    se = unname(sqrt(diag(fit$var))[fixed]), se2 = unname(sqrt(diag(fit$var2))[fixed]),
    var = unname(fit$var[fixed, fixed, drop = FALSE]),
    var2 = unname(fit$var2[fixed, fixed, drop = FALSE]),
    theta = theta, theta_next = h$theta,
    history = hist,
    frail = unname(frail), fvar = unname(fvar),
    levels = levels(factor(data[[cluster]][complete.cases(data[, all.vars(as.formula(formula))])])),
    loglik = unname(fit$loglik), c_loglik = h$c.loglik,
    df = unname(fit$df), iter = unname(fit$iter), penalty = unname(fit$penalty),
    frailty_chisq = unname(fterm[4]), frailty_df = unname(fterm[5]), frailty_p = unname(fterm[6])
  )
}

lung_f <- "Surv(time, event) ~ age + sex + ph.ecog + frailty(inst, distribution = 'gamma')"
multi_f <- "Surv(time, event) ~ x1 + x2 + frailty(center, distribution = 'gamma')"
cases <- list(
  describe("lung_efron", lung, lung_f, "efron", "inst"),
  describe("lung_breslow", lung, lung_f, "breslow", "inst"),
  describe("lung_strata", lung,
           "Surv(time, event) ~ age + ph.ecog + strata(sex) + frailty(inst, distribution = 'gamma')",
           "efron", "inst"),
  describe("multicenter_efron", multi, multi_f, "efron", "center"),
  describe("multicenter_breslow", multi, multi_f, "breslow", "center"),
  describe("fewcenters_efron", few, multi_f, "efron", "center"),
  describe("strongcenters_breslow", strong, multi_f, "breslow", "center"),
  # the default search stops at outer.max = 10 on the multicenter data; let it converge
  describe("multicenter_outer30", multi, multi_f, "efron", "center", outer_max = 30),
  # theta fixed (method = "fixed"): one inner fit, no search
  describe("multicenter_fixed", multi,
           "Surv(time, event) ~ x1 + x2 + frailty(center, distribution = 'gamma', theta = 0.5)",
           "efron", "center")
)
out <- list(R = R.version.string, survival = as.character(packageVersion("survival")),
            cases = cases,
            one_center_error = tryCatch({
              coxph(Surv(time, event) ~ x1 + frailty(rep(1, nrow(multi))), data = multi); "no error"
            }, error = function(e) conditionMessage(e)))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", matrix = "rowmajor"),
           "tests/fixtures/r/frailty.json")
cat("written tests/fixtures/r/frailty.json\n")
