# Reference numbers for rwestudy.stats.survival and rwestudy.stats.group_tests.
#
# Run from the repository root:
#     Rscript reference/r/survival_km_tests.R
# Writes tests/fixtures/r/km_tests.json and the data it was computed on to
# tests/fixtures/r/data/*.csv, so Python reads exactly the rows R used.
#
# Needs: survival (>= 3.x), jsonlite (Debian: apt-get install r-cran-jsonlite).
#
# What comes from where:
# * Kaplan-Meier tables, quantiles and landmarks: survfit / quantile.survfit /
#   summary.survfit, untouched.
# * Log-rank (rho = 0) and Peto-Peto (rho = 1), plain and stratified: survdiff.
# * Gehan (Wilcoxon-Breslow-Gehan, weight = n at risk), Tarone-Ware
#   (sqrt(n at risk)) and Fleming-Harrington(rho, gamma): survdiff has no such
#   weights and coin::logrank_test(type = "Gehan-Breslow") reports a
#   permutation (conditional on the full sample) variance, not the per-time
#   hypergeometric variance that Stata/SAS/SPSS print.  So the weighted
#   log-rank statistic is written out below (weighted_logrank) and is first
#   checked against survdiff for rho = 0 and rho = 1 (stopifnot) before it is
#   trusted for the other weights.
# * Trend test: (a'U)^2 / (a'Va) with scores a = 1..K (group order), U and V
#   from survdiff (log-rank) or weighted_logrank (Gehan).
# * Reverse Kaplan-Meier median follow-up: survfit(Surv(time, 1 - event) ~ 1).
#
# All times are integers (days) or small integers: real ties, so survival's
# timefix (which merges times closer than ~1.5e-8) changes nothing.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
options(digits = 17)

out_dir <- file.path("tests", "fixtures", "r")
data_dir <- file.path(out_dir, "data")
dir.create(data_dir, recursive = TRUE, showWarnings = FALSE)

# ---------------------------------------------------------------- data sets
datasets <- list(
  lung = data.frame(time = lung$time, event = as.integer(lung$status == 2),
                    sex = lung$sex, ph_ecog = lung$ph.ecog),
  veteran = data.frame(time = veteran$time, event = veteran$status, trt = veteran$trt,
                       celltype = as.character(veteran$celltype), prior = veteran$prior),
  ovarian = data.frame(time = ovarian$futime, event = ovarian$fustat, rx = ovarian$rx,
                       resid_ds = ovarian$resid.ds, ecog_ps = ovarian$ecog.ps)
)

# Heavy ties: 600 patients on 24 distinct monthly times, 3 arms, 3 sites.
set.seed(20240611)
n <- 600
arm <- sample(c("A", "B", "C"), n, replace = TRUE)
datasets$ties <- data.frame(
  time = sample(1:24, n, replace = TRUE) + 3L * (arm == "C"),
  event = rbinom(n, 1, 0.55),
  arm = arm,
  site = sample(c("s1", "s2", "s3"), n, replace = TRUE)
)

# Median not reached in arm "good" (few events), reached in arm "poor".
m <- 80
grp <- rep(c("good", "poor"), each = m / 2)
# "good": ~20% die in months 1-30, everyone else is followed to 31-60.
cure_event <- ifelse(grp == "good", rbinom(m, 1, 0.2), rbinom(m, 1, 0.9))
datasets$cure <- data.frame(
  time = ifelse(grp == "good" & cure_event == 0, sample(31:60, m, replace = TRUE),
                sample(1:30, m, replace = TRUE)),
  event = cure_event,
  arm = grp
)

# Plateaus at exactly 0.5: midpoint rule (uncensored) and a plateau that runs
# to the last follow-up (R takes the midpoint with the last time).
datasets$plateau <- data.frame(
  time = c(1, 2, 3, 4, 5, 6, 1, 2, 3, 4),
  event = c(1, 1, 1, 1, 1, 1, 1, 1, 0, 0),
  arm = c(rep("uncensored", 6), rep("tail", 4))
)

for (nm in names(datasets)) {
  write.csv(datasets[[nm]], file.path(data_dir, paste0("km_", nm, ".csv")), row.names = FALSE, na = "")
}

num <- function(x) as.numeric(x)
# survdiff with strata() returns obs/exp as group x stratum matrices
rowsum_if_matrix <- function(x) if (is.matrix(x)) rowSums(x) else x

# ------------------------------------------------------------- Kaplan-Meier
km_case <- function(ds, by, conf_type, conf_level = 0.95, landmarks = numeric(0)) {
  d <- datasets[[ds]]
  if (!is.null(by)) d <- d[!is.na(d[[by]]), ]
  f <- if (is.null(by)) {
    survfit(Surv(time, event) ~ 1, data = d, conf.type = conf_type, conf.int = conf_level)
  } else {
    survfit(as.formula(paste("Surv(time, event) ~", by)), data = d,
            conf.type = conf_type, conf.int = conf_level)
  }
  groups <- if (is.null(by)) "all" else as.character(sort(unique(d[[by]])))
  tables <- list(); quants <- list(); lms <- list()
  for (i in seq_along(groups)) {
    fi <- if (is.null(by)) f else f[i]
    s <- summary(fi, censored = TRUE)
    tables[[i]] <- list(group = groups[i], time = num(s$time), n_risk = num(s$n.risk),
                        n_event = num(s$n.event), n_censor = num(s$n.censor),
                        surv = num(s$surv), std_err = num(s$std.err),
                        lower = num(s$lower), upper = num(s$upper))
    q <- quantile(fi, probs = c(0.25, 0.5, 0.75))
    quants[[i]] <- list(group = groups[i], probs = c(0.25, 0.5, 0.75),
                        quantile = num(q$quantile), lower = num(q$lower), upper = num(q$upper))
    if (length(landmarks)) {
      sl <- summary(fi, times = landmarks, extend = FALSE)
      lms[[i]] <- list(group = groups[i], requested = landmarks, time = num(sl$time),
                       surv = num(sl$surv), std_err = num(sl$std.err),
                       lower = num(sl$lower), upper = num(sl$upper), n_risk = num(sl$n.risk))
    }
  }
  list(dataset = ds, by = by, conf_type = conf_type, conf_level = conf_level,
       tables = tables, quantiles = quants, landmarks = lms)
}

landmarks_for <- list(lung = c(0, 5, 180, 365, 730, 1022, 2000),
                      veteran = c(0, 30, 90, 180, 365, 999, 1200),
                      ovarian = c(100, 365, 730, 1300),
                      ties = c(0.5, 1, 6, 12, 24, 27, 30),
                      cure = c(6, 12, 30, 60, 61),
                      plateau = c(2, 3.5, 4, 6, 7))
km_specs <- list(
  list("lung", NULL), list("lung", "sex"), list("lung", "ph_ecog"),
  list("veteran", "trt"), list("veteran", "celltype"), list("ovarian", "rx"),
  list("ties", NULL), list("ties", "arm"), list("cure", "arm"), list("plateau", "arm")
)
km_cases <- list()
for (sp in km_specs) {
  for (ct in c("log", "log-log", "plain")) {
    km_cases[[length(km_cases) + 1]] <- km_case(sp[[1]], sp[[2]], ct, 0.95, landmarks_for[[sp[[1]]]])
  }
}
km_cases[[length(km_cases) + 1]] <- km_case("lung", "sex", "log-log", 0.90, landmarks_for$lung)
km_cases[[length(km_cases) + 1]] <- km_case("veteran", "trt", "plain", 0.99, landmarks_for$veteran)

# ----------------------------------------------------- weighted log-rank tests
# U_k = sum_t w(t) (d_k(t) - d(t) n_k(t) / n(t))
# V_kl = sum_t w(t)^2 d (n - d) / (n - 1) * n_k / n * (1[k = l] - n_l / n)
# summed over strata; S(t-) is the pooled Kaplan-Meier within the stratum.
weighted_logrank <- function(time, event, group, strata = NULL, weight) {
  levs <- sort(unique(group))
  K <- length(levs)
  if (is.null(strata)) strata <- rep(1, length(time))
  U <- numeric(K); V <- matrix(0, K, K); O <- numeric(K); E <- numeric(K)
  for (s in unique(strata)) {
    sel <- strata == s
    t <- time[sel]; e <- event[sel]; g <- group[sel]
    surv_left <- 1
    for (u in sort(unique(t[e == 1]))) {
      at_risk <- t >= u
      nk <- vapply(levs, function(l) sum(at_risk & g == l), numeric(1), USE.NAMES = FALSE)
      dk <- vapply(levs, function(l) sum(t == u & e == 1 & g == l), numeric(1), USE.NAMES = FALSE)
      nn <- sum(nk); dd <- sum(dk)
      w <- weight(nn, surv_left)
      ek <- dd * nk / nn
      U <- U + w * (dk - ek)
      O <- O + dk; E <- E + ek
      if (nn > 1) {
        p <- nk / nn
        V <- V + w^2 * dd * (nn - dd) / (nn - 1) * (diag(p, K) - outer(p, p))
      }
      surv_left <- surv_left * (1 - dd / nn)
    }
  }
  list(levels = levs, U = U, V = V, O = O, E = E)
}

chisq_from <- function(U, V) {
  keep <- 2:length(U)
  chi <- sum(solve(V[keep, keep, drop = FALSE], U[keep]) * U[keep])
  c(chi = chi, df = length(keep))
}

weights <- list(
  logrank = function(n, s) 1,
  "peto-peto" = function(n, s) s,
  gehan = function(n, s) n,
  "tarone-ware" = function(n, s) sqrt(n),
  "fh_0_1" = function(n, s) (1 - s),
  "fh_1_1" = function(n, s) s * (1 - s),
  "fh_0.5_2" = function(n, s) s^0.5 * (1 - s)^2
)

test_case <- function(ds, by, strata = NULL, tests = names(weights), trend = FALSE) {
  d <- datasets[[ds]]
  d <- d[!is.na(d[[by]]), ]
  st <- if (is.null(strata)) NULL else d[[strata]]
  out <- list()
  # survdiff: rho = 0 and rho = 1, to check weighted_logrank and as the reference
  fml <- paste("Surv(time, event) ~", by)
  if (!is.null(strata)) fml <- paste0(fml, " + strata(", strata, ")")
  for (rho in c(0, 1)) {
    sd <- survdiff(as.formula(fml), data = d, rho = rho)
    mine <- weighted_logrank(d$time, d$event, d[[by]], st,
                             if (rho == 0) weights$logrank else weights[["peto-peto"]])
    stopifnot(isTRUE(all.equal(as.numeric(rowsum_if_matrix(sd$obs - sd$exp)), unname(mine$U), tolerance = 1e-10)))
    stopifnot(isTRUE(all.equal(unname(sd$var), unname(mine$V), tolerance = 1e-10)))
    stopifnot(isTRUE(all.equal(unname(sd$chisq), unname(chisq_from(mine$U, mine$V)["chi"]), tolerance = 1e-10)))
  }
  sd0 <- survdiff(as.formula(fml), data = d, rho = 0)
  obs <- rowsum_if_matrix(sd0$obs)
  expct <- rowsum_if_matrix(sd0$exp)
  for (tn in tests) {
    if (tn %in% c("logrank", "peto-peto")) {
      sd <- survdiff(as.formula(fml), data = d, rho = if (tn == "logrank") 0 else 1)
      U <- as.numeric(rowsum_if_matrix(sd$obs) - rowsum_if_matrix(sd$exp)); V <- unname(sd$var); chi <- unname(sd$chisq)
      source <- paste0("survdiff(rho=", if (tn == "logrank") 0 else 1, ")")
    } else {
      wl <- weighted_logrank(d$time, d$event, d[[by]], st, weights[[tn]])
      U <- wl$U; V <- wl$V; chi <- unname(chisq_from(U, V)["chi"])
      source <- "weighted_logrank (formula in this script)"
    }
    K <- length(U)
    rec <- list(dataset = ds, by = by, strata = strata, test = tn, source = source,
                groups = as.character(sort(unique(d[[by]]))),
                statistic = chi, df = K - 1, p = pchisq(chi, K - 1, lower.tail = FALSE),
                U = U, V = V, observed = as.numeric(obs), expected = as.numeric(expct))
    if (trend) {
      a <- seq_len(K)
      tr <- sum(a * U)^2 / as.numeric(t(a) %*% V %*% a)
      rec$trend <- list(scores = a, statistic = tr, p = pchisq(tr, 1, lower.tail = FALSE))
    }
    out[[length(out) + 1]] <- rec
  }
  out
}

test_cases <- c(
  test_case("lung", "sex"),
  test_case("lung", "ph_ecog", tests = c("logrank", "gehan", "peto-peto"), trend = TRUE),
  test_case("veteran", "celltype", trend = TRUE),
  test_case("veteran", "trt", strata = "celltype"),
  test_case("ovarian", "rx", tests = c("logrank", "peto-peto", "gehan", "tarone-ware")),
  test_case("ties", "arm", trend = TRUE),
  test_case("ties", "arm", strata = "site", trend = TRUE),
  test_case("cure", "arm", tests = c("logrank", "gehan", "peto-peto"))
)

# ------------------------------------------------- reverse Kaplan-Meier follow-up
followup_case <- function(ds, by, conf_type) {
  d <- datasets[[ds]]
  groups <- if (is.null(by)) "all" else as.character(sort(unique(d[[by]])))
  f <- if (is.null(by)) {
    survfit(Surv(time, 1 - event) ~ 1, data = d, conf.type = conf_type)
  } else {
    survfit(as.formula(paste("Surv(time, 1 - event) ~", by)), data = d, conf.type = conf_type)
  }
  res <- list()
  for (i in seq_along(groups)) {
    q <- quantile(if (is.null(by)) f else f[i], probs = 0.5)
    res[[i]] <- list(group = groups[i], median = num(q$quantile), lower = num(q$lower),
                     upper = num(q$upper))
  }
  list(dataset = ds, by = by, conf_type = conf_type, groups = res)
}
followup_cases <- list(
  followup_case("lung", NULL, "log-log"), followup_case("lung", NULL, "log"),
  followup_case("veteran", "trt", "log-log"), followup_case("ties", "arm", "plain"),
  followup_case("cure", "arm", "log-log")
)

fixture <- list(
  generated_by = "reference/r/survival_km_tests.R",
  r_version = R.version.string,
  survival_version = as.character(packageVersion("survival")),
  datasets = as.list(paste0("data/km_", names(datasets), ".csv")),
  kaplan_meier = km_cases,
  group_tests = test_cases,
  reverse_km = followup_cases
)
names(fixture$datasets) <- names(datasets)
writeLines(toJSON(fixture, auto_unbox = TRUE, digits = NA, na = "null", null = "null", pretty = 1),
           file.path(out_dir, "km_tests.json"))
cat("wrote", file.path(out_dir, "km_tests.json"), "\n")
