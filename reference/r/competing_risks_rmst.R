# Reference numbers for rwestudy.stats.competing_risks and rwestudy.stats.rmst.
#
# Run from the repository root:
#     Rscript reference/r/competing_risks_rmst.R
# Writes tests/fixtures/r/competing_risks_rmst.json and the data it was computed
# on to tests/fixtures/r/data/cr_*.csv, so Python reads exactly the rows R used.
#
# Needs: survival (>= 3.x), cmprsk (>= 2.2), jsonlite
# (Debian: apt-get install r-cran-survival r-cran-cmprsk r-cran-jsonlite).
#
# What comes from where:
# * Cumulative incidence (Aalen-Johansen) and its variance: cmprsk::cuminc
#   (Gray's asymptotic variance), read at chosen times with cmprsk::timepoints;
#   the whole step function from the cuminc object.
# * Gray's test (rho = 0 and rho = 1, plain and stratified): cmprsk::cuminc $Tests.
# * Cross-check of the estimate (not the variance) with survival's
#   multi-state survfit (Aalen-Johansen), stopifnot below.
# * Fine-Gray subdistribution-hazard regression: cmprsk::crr (run to
#   gtol = 1e-10 so both sides sit at the same maximum), coef, se from crr's
#   sandwich variance (with the censoring-distribution term), z and p.
# * Restricted mean survival time and its standard error: survival's
#   print.survfit(rmean = tau) table ("rmean", "se(rmean)").
# * Difference and ratio of two RMSTs: written out here from those two
#   numbers (normal approximation; ratio on the log scale by the delta
#   method), which is what survRM2::rmst2 prints.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(jsonlite)
})
options(digits = 17)

out_dir <- file.path("tests", "fixtures", "r")
data_dir <- file.path(out_dir, "data")
dir.create(data_dir, recursive = TRUE, showWarnings = FALSE)

# ---------------------------------------------------------------- data sets
# mgus2: progression to plasma-cell malignancy (1) vs death without it (2).
m <- mgus2
m$etime <- ifelse(m$pstat == 0, m$futime, m$ptime)
m$event <- ifelse(m$pstat == 0, 2 * m$death, 1)
m <- m[!is.na(m$etime) & !is.na(m$event), ]
m <- m[!is.na(m$hgb), ]
mg <- data.frame(time = m$etime, cause = m$event, sex = as.character(m$sex),
                 agegrp = ifelse(m$age >= 70, "70+", "<70"), age = m$age, hgb = m$hgb)

# Heavy ties: 400 patients on 30 monthly times, 3 arms, 2 strata, 2 causes.
set.seed(20261203)
n <- 400
arm <- sample(c("A", "B", "C"), n, replace = TRUE)
ties <- data.frame(
  time = sample(1:30, n, replace = TRUE) + 2L * (arm == "C"),
  cause = sample(0:2, n, replace = TRUE, prob = c(0.35, 0.4, 0.25)),
  arm = arm,
  site = sample(c("s1", "s2"), n, replace = TRUE)
)
datasets <- list(mgus2 = mg, ties = ties)
for (nm in names(datasets)) {
  write.csv(datasets[[nm]], file.path(data_dir, paste0("cr_", nm, ".csv")), row.names = FALSE, na = "")
}

num <- function(x) as.numeric(x)

# ------------------------------------------------------------- cumulative incidence
cif_case <- function(ds, by, times, strata = NULL, rho = 0) {
  d <- datasets[[ds]]
  g <- if (is.null(by)) rep("all", nrow(d)) else d[[by]]
  ci <- if (is.null(strata)) cuminc(d$time, d$cause, g, rho = rho)
        else cuminc(d$time, d$cause, g, strata = d[[strata]], rho = rho)
  curves <- list()
  for (nm in setdiff(names(ci), "Tests")) {
    cur <- ci[[nm]]
    curves[[length(curves) + 1]] <- list(name = nm, time = num(cur$time), est = num(cur$est),
                                         var = num(cur$var))
  }
  tp <- timepoints(ci, times)
  at <- list(names = rownames(tp$est), times = times,
             est = lapply(seq_len(nrow(tp$est)), function(i) num(tp$est[i, ])),
             var = lapply(seq_len(nrow(tp$var)), function(i) num(tp$var[i, ])))
  tests <- if (!is.null(ci$Tests)) list(cause = rownames(ci$Tests), stat = num(ci$Tests[, "stat"]),
                                        p = num(ci$Tests[, "pv"]), df = num(ci$Tests[, "df"])) else NULL
  # Aalen-Johansen estimate from survival's multi-state survfit must agree
  if (is.null(strata)) {
    for (grp in unique(g)) {
      dd <- d[g == grp, ]
      sf <- survfit(Surv(time, factor(cause, levels = 0:2)) ~ 1, data = dd)
      for (k in 1:2) {
        s <- summary(sf, times = times, extend = TRUE)
        col <- which(sf$states == as.character(k))
        tpk <- tp$est[paste(grp, k), ]
        stopifnot(isTRUE(all.equal(num(s$pstate[, col]), num(tpk), tolerance = 1e-10)))
      }
    }
  }
  list(dataset = ds, by = by, strata = strata, rho = rho, curves = curves, at = at, tests = tests)
}

cif <- list(
  cif_case("mgus2", "sex", c(12, 60, 120, 240)),
  cif_case("mgus2", "agegrp", c(12, 60, 120, 240), rho = 1),
  cif_case("mgus2", NULL, c(12, 60, 120, 240)),
  cif_case("ties", "arm", c(3, 10, 20, 30)),
  cif_case("ties", "arm", c(3, 10, 20, 30), strata = "site")
)

# ------------------------------------------------------------- RMST
rmst_case <- function(ds, by, tau) {
  d <- datasets[[ds]]
  d$event <- as.integer(d$cause != 0)   # any event (overall survival-like)
  f <- survfit(as.formula(paste("Surv(time, event) ~", by)), data = d)
  tab <- summary(f, rmean = tau)$table
  groups <- sub(paste0("^", by, "="), "", rownames(tab))
  r <- num(tab[, "rmean"]); se <- num(tab[, "se(rmean)"])
  # difference and ratio of the second group vs the first, by hand
  diff <- r[2] - r[1]; se_diff <- sqrt(se[1]^2 + se[2]^2)
  z <- qnorm(0.975)
  lr <- log(r[2] / r[1]); se_lr <- sqrt(se[1]^2 / r[1]^2 + se[2]^2 / r[2]^2)
  list(dataset = ds, by = by, tau = tau, groups = groups, rmean = r, se = se,
       diff = diff, diff_low = diff - z * se_diff, diff_high = diff + z * se_diff,
       diff_p = 2 * pnorm(-abs(diff / se_diff)),
       ratio = exp(lr), ratio_low = exp(lr - z * se_lr), ratio_high = exp(lr + z * se_lr),
       ratio_p = 2 * pnorm(-abs(lr / se_lr)))
}

rmst <- list(
  rmst_case("mgus2", "sex", 120),
  rmst_case("mgus2", "agegrp", 60),
  rmst_case("ties", "site", 20),
  rmst_case("ties", "site", 32)
)

# ------------------------------------------------------------- Fine-Gray
fg_case <- function(ds, covs, failcode = 1) {
  d <- datasets[[ds]]
  X <- model.matrix(as.formula(paste("~", paste(covs, collapse = " + "))), data = d)[, -1, drop = FALSE]
  f <- crr(d$time, d$cause, X, failcode = failcode, cencode = 0, gtol = 1e-10, maxiter = 100)
  se <- sqrt(diag(f$var))
  list(dataset = ds, covariates = covs, failcode = failcode, terms = colnames(X),
       coef = num(f$coef), se = num(se), z = num(f$coef / se), p = num(2 * pnorm(-abs(f$coef / se))),
       loglik = f$loglik, loglik_null = f$loglik.null, converged = f$converged, n = f$n)
}
fine_gray <- list(
  fg_case("mgus2", c("sex", "age", "hgb")),
  fg_case("mgus2", c("sex", "age"), failcode = 2),
  fg_case("ties", c("arm")),
  fg_case("ties", c("arm", "site"), failcode = 2)
)

out <- list(r_version = R.version.string, survival = as.character(packageVersion("survival")),
            cmprsk = as.character(packageVersion("cmprsk")), cif = cif, rmst = rmst, fine_gray = fine_gray)
writeLines(toJSON(out, auto_unbox = TRUE, digits = I(17), null = "null", na = "null"),
           file.path(out_dir, "competing_risks_rmst.json"))
cat("written", file.path(out_dir, "competing_risks_rmst.json"), "\n")
