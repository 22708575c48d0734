# Reference values for rwestudy.context.maic, computed with base R and survival only
# (the CRAN package `maic` is not in Debian; this re-derives the method of moments of
# Signorovitch et al. 2010 / NICE DSU TSD 18 with optim(method = "BFGS")).
# Run from the repo root:  Rscript reference/r/maic_reference.R
# Reads  tests/fixtures/r/maic_roche_example.json (Roche MAIC package example data)
# Writes tests/fixtures/r/maic_reference.json (simulated data exported with 17 significant
# digits, so Python reads identical doubles, plus R's weights, ESS, weighted outcomes and
# weighted Kaplan-Meier from survfit(weights = )).
suppressPackageStartupMessages({library(survival); library(jsonlite)})

outdir <- "tests/fixtures/r"

# Method of moments: minimise Q(a) = sum exp(Z a) on the centred design.  Columns are
# divided by their SD first (the weights do not change; BFGS converges much better).
maic_optim <- function(Z) {
  s <- apply(Z, 2, function(v) sqrt(mean((v - mean(v))^2)))
  Zs <- sweep(Z, 2, s, "/")
  q <- function(a) sum(exp(Zs %*% a))
  g <- function(a) as.vector(crossprod(Zs, exp(Zs %*% a)))
  fit <- optim(rep(0, ncol(Zs)), q, g, method = "BFGS",
               control = list(reltol = 1e-16, maxit = 10000))
  # finish with Newton steps: BFGS alone stops near 1e-8 in the weighted means
  a <- fit$par
  for (i in 1:20) {
    w <- as.vector(exp(Zs %*% a))
    gr <- crossprod(Zs, w)
    H <- crossprod(Zs * w, Zs)
    a <- a - as.vector(solve(H, gr))
  }
  w <- as.vector(exp(Zs %*% a))
  list(raw = w, wt = w / sum(w) * length(w), ess = sum(w)^2 / sum(w^2),
       bfgs_raw = as.vector(exp(Zs %*% fit$par)), convergence = fit$convergence,
       weighted_means_gap = max(abs(crossprod(Zs, w) / sum(w))))
}

num <- function(x) as.numeric(sprintf("%.17g", x))

# ---- 1. simulated cohort: continuous + binary covariates, variance matching -------------
set.seed(20240611)
n <- 120
age <- round(rnorm(n, 62, 10), 1)
male <- rbinom(n, 1, 0.6)
ecog23 <- rbinom(n, 1, 0.3)
stage34 <- rbinom(n, 1, 0.55)
lp <- -0.5 + 0.03 * (age - 62) - 0.8 * ecog23 - 0.4 * stage34
orr <- rbinom(n, 1, plogis(lp + 0.6))
t_event <- rexp(n, rate = 0.06 * exp(0.025 * (age - 62) + 0.6 * ecog23 + 0.3 * stage34))
t_cens <- runif(n, 6, 48)
os_time <- round(pmin(t_event, t_cens), 3)
os_event <- as.integer(t_event <= t_cens)

targets <- c(age = 66, male = 0.5, ecog23 = 0.4, stage34 = 0.7)
age_sd <- 8
Z <- cbind(age - targets["age"], male - targets["male"], ecog23 - targets["ecog23"],
           stage34 - targets["stage34"], (age - targets["age"])^2 - age_sd^2)
sim <- maic_optim(Z)
w <- sim$wt
km <- survfit(Surv(os_time, os_event) ~ 1, weights = w)
km_u <- survfit(Surv(os_time, os_event) ~ 1)
med <- function(f) unname(summary(f)$table["median"])

# mean-only matching (no variance term) on the same data
sim_mean <- maic_optim(Z[, 1:4])

simulated <- list(
  data = list(age = num(age), male = male, ecog23 = ecog23, stage34 = stage34, orr = orr,
              os_time = num(os_time), os_event = os_event),
  targets = as.list(targets), age_sd = age_sd,
  with_variance = list(
    weights = num(w), raw = num(sim$raw), ess = num(sim$ess), bfgs_convergence = sim$convergence,
    weighted_means_gap = sim$weighted_means_gap,
    weighted_age_mean = num(sum(w * age) / sum(w)),
    weighted_age_sd = num(sqrt(sum(w * (age - targets["age"])^2) / sum(w))),
    orr_weighted = num(sum(w * orr) / sum(w)),
    km_time = num(km$time), km_surv = num(km$surv), km_n_risk = num(km$n.risk), km_n_event = num(km$n.event),
    median_weighted = num(med(km)), median_unweighted = num(med(km_u))),
  mean_only = list(weights = num(sim_mean$wt), ess = num(sim_mean$ess))
)

# ---- 2. Roche MAIC package example (AGE, AGE^2, SEX, SMOKE, ECOG0) ---------------------
ex <- fromJSON(file.path(outdir, "maic_roche_example.json"))
d <- ex$data
ag <- ex$aggregate
Zr <- cbind(d$AGE - ag$age.mean, d$AGE^2 - (ag$age.mean^2 + ag$age.sd^2), d$SEX - ag$prop.male,
            d$SMOKE - ag$prop.smoke, d$ECOG0 - ag$prop.ecog0)
roche <- maic_optim(Zr)

out <- list(
  generated_by = "reference/r/maic_reference.R",
  r_version = R.version.string, survival_version = as.character(packageVersion("survival")),
  simulated = simulated,
  roche = list(raw = num(roche$raw), wt_rs = num(roche$wt), ess = num(roche$ess),
               bfgs_only_raw_first6 = num(roche$bfgs_raw[1:6]),
               weighted_means_gap = roche$weighted_means_gap)
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE), file.path(outdir, "maic_reference.json"))
cat("wrote", file.path(outdir, "maic_reference.json"), "\n")
cat("simulated ESS", sim$ess, " Roche ESS", roche$ess, "\n")
