# Reference numbers for the whole `rwestudy analyze` pipeline on the shipped demo study,
# for every conventions profile, computed by R from the exported analysis-ready data.
#
# Run from the repository root:
#     .venv/bin/python reference/r/export_demo.py     # writes the two CSV inputs
#     Rscript reference/r/demo_study.R                # writes tests/fixtures/r/demo_study.json
#
# Inputs (written by export_demo.py, not expected values):
#   tests/fixtures/r/data/demo_endpoints.csv  patient_id, endpoint, time (months), event
#   tests/fixtures/r/data/demo_factors.csv    patient_id, factors (sex F/M, others 0/1),
#       orr_best, cr_best, best_response, final_response, reduction_months, grade3_ae_months
#
# Needs: survival (>= 3.x), jsonlite.
#
# What R computes, per profile (the profile only changes the arguments below):
#
#   profile    ties     KM conf.type  binomial CI       "Wilcoxon"            chisq.test correct
#   rwestudy   efron    log-log       exact (binom.test) Gehan                FALSE
#   r          efron    log           exact              Peto-Peto (rho = 1)  TRUE
#   stata      breslow  log-log       exact              Gehan                FALSE
#   sas        breslow  log-log       exact              Gehan                FALSE
#   spss       breslow  plain         Wald (formula)     Gehan                FALSE
#
# * Kaplan-Meier medians / quartiles with CIs: quantile(survfit(..., conf.type)) (Brookmeyer-
#   Crowley on the profile's scale). SPSS prints median +/- 1.96 SE (a density-based SE) instead;
#   R has no such interval, so for spss only the point estimates are written (CIs null).
# * Landmark survival at 6/12/24 months: summary(fit, times = ...).
# * Median follow-up: reverse Kaplan-Meier, survfit(Surv(time, 1 - event) ~ 1).
# * Log-rank: survdiff(rho = 0); Peto-Peto: survdiff(rho = 1); Gehan-Breslow (weight = number at
#   risk): survdiff has no such weight, so the weighted log-rank statistic is written out below
#   (gehan_chisq) and checked against survdiff for weights 1 and S(t-) before it is used.
# * Cox: coxph(ties = profile) univariate per factor; multivariate on the factors with univariate
#   Wald p < 0.05 (recomputed here); backward elimination by Wald p (drop the largest while it is
#   >= 0.05; a single remaining factor is kept), all on the complete cases of the candidates.
#   Proportional hazards of the multivariate model: cox.zph(fit, transform = "km", terms = TRUE).
# * Post-baseline factors (toxicity, dose_reduced): landmark Cox at 3 months (patients with
#   time > 3, factor = happened by month 3, time from month 3) with its survdiff log-rank p, and a
#   time-dependent Cox on (start, stop] rows built with tmerge(tdc()).
# * Response: binom.test (exact) or the Wald interval p +/- z sqrt(p (1 - p) / n) clipped to [0, 1]
#   (spss), for every best / final response category, not assessed, ORR and CR rate, all treated in
#   the denominator.
# * Associations orr_best / cr_best vs each factor: chisq.test(correct = profile) when every
#   expected count is >= 5, else fisher.test.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

out_dir <- file.path("tests", "fixtures", "r")
data_dir <- file.path(out_dir, "data")
tte <- read.csv(file.path(data_dir, "demo_endpoints.csv"), stringsAsFactors = FALSE,
                colClasses = c(patient_id = "character", endpoint = "character"))
fac <- read.csv(file.path(data_dir, "demo_factors.csv"), stringsAsFactors = FALSE,
                colClasses = c(patient_id = "character", sex = "character",
                               best_response = "character", final_response = "character"),
                na.strings = "")

FACTORS <- c("sex", "age_ge70_diagnosis", "age_ge70_start", "double_hit", "stage_3_4", "prior_asct",
             "extranodal", "primary_refractory", "b_symptoms", "ecog_2_3", "bulky", "ldh_increased",
             "refractory_last_line", "toxicity", "dose_reduced")
POST <- list(toxicity = "grade3_ae_months", dose_reduced = "reduction_months")
ENDPOINTS <- c("OS", "PFS", "DoR", "DFS", "TTNT")
FACTOR_ENDPOINTS <- c("OS", "PFS")
LANDMARKS <- c(6, 12, 24)
LANDMARK_COX <- 3
THRESHOLD <- 0.05
CTRL <- coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100)

fac$sex <- factor(fac$sex, levels = c("F", "M"))   # F = reference, as analyze
# analyze only uses factors with two observed levels
FACTORS <- FACTORS[vapply(FACTORS, function(f) length(unique(na.omit(fac[[f]]))) >= 2, logical(1))]

profiles <- list(
  rwestudy = list(ties = "efron", conf_type = "log-log", binomial = "exact", wilcoxon = "gehan",
                  correct = FALSE, median_ci = TRUE),
  r = list(ties = "efron", conf_type = "log", binomial = "exact", wilcoxon = "peto-peto",
           correct = TRUE, median_ci = TRUE),
  stata = list(ties = "breslow", conf_type = "log-log", binomial = "exact", wilcoxon = "gehan",
               correct = FALSE, median_ci = TRUE),
  sas = list(ties = "breslow", conf_type = "log-log", binomial = "exact", wilcoxon = "gehan",
             correct = FALSE, median_ci = TRUE),
  spss = list(ties = "breslow", conf_type = "plain", binomial = "wald", wilcoxon = "gehan",
              correct = FALSE, median_ci = FALSE)
)

num <- function(x) as.numeric(unname(x))
endpoint_data <- function(e) {
  d <- tte[tte$endpoint == e, c("patient_id", "time", "event")]
  merge(d, fac, by = "patient_id", all.x = TRUE, sort = FALSE)
}

# ------------------------------------------------------------ weighted log-rank
# Two or more groups; at each distinct event time t with n_k at risk and d_k events:
#   U_k = sum_t w(t) (d_k - d n_k / n),  V = sum_t w^2 d (n - d) / (n - 1) (diag(p) - p p'), p = n_k / n
# chi-square = U[-1]' V[-1, -1]^-1 U[-1].  w(n, S) gets the pooled number at risk and the pooled
# Kaplan-Meier S(t-) just before t.
weighted_chisq <- function(time, event, group, w) {
  g <- as.character(group)
  levs <- sort(unique(g))
  K <- length(levs)
  U <- numeric(K)
  V <- matrix(0, K, K)
  s_left <- 1
  for (u in sort(unique(time[event == 1]))) {
    risk <- time >= u
    n_k <- sapply(levs, function(l) sum(risk & g == l))
    d_k <- sapply(levs, function(l) sum(time == u & event == 1 & g == l))
    n <- sum(n_k); d <- sum(d_k)
    wt <- w(n, s_left)
    U <- U + wt * (d_k - d * n_k / n)
    if (n > 1) {
      p <- n_k / n
      V <- V + wt^2 * d * (n - d) / (n - 1) * (diag(p, K) - outer(p, p))
    }
    s_left <- s_left * (1 - d / n)
  }
  k <- 2:K
  chi <- drop(t(U[k]) %*% solve(V[k, k, drop = FALSE], U[k]))
  list(statistic = chi, df = K - 1, p = pchisq(chi, K - 1, lower.tail = FALSE))
}
W_GEHAN <- function(n, s) n

survdiff_test <- function(d, f, rho) {
  sd <- survdiff(as.formula(paste("Surv(time, event) ~", f)), data = d, rho = rho)
  df <- length(sd$n) - 1
  list(statistic = num(sd$chisq), df = df, p = pchisq(num(sd$chisq), df, lower.tail = FALSE))
}

# check the formula against survdiff on the demo data itself (weights 1 and S(t-))
for (e in FACTOR_ENDPOINTS) for (f in FACTORS) {
  d <- endpoint_data(e)
  d <- d[!is.na(d[[f]]), ]
  for (rho in c(0, 1)) {
    mine <- weighted_chisq(d$time, d$event, d[[f]], if (rho == 0) function(n, s) 1 else function(n, s) s)
    ref <- survdiff_test(d, f, rho)
    stopifnot(isTRUE(all.equal(mine$statistic, ref$statistic, tolerance = 1e-10)))
  }
}

# ------------------------------------------------------------------ Kaplan-Meier
km_rows <- function(d, e, f, pr) {
  fml <- if (is.null(f)) Surv(time, event) ~ 1 else as.formula(paste("Surv(time, event) ~", f))
  if (!is.null(f)) d <- d[!is.na(d[[f]]), ]
  fit <- survfit(fml, data = d, conf.type = pr$conf_type, conf.int = 0.95)
  levels <- if (is.null(f)) "all" else if (is.factor(d[[f]])) levels(droplevels(d[[f]])) else
    as.character(sort(unique(d[[f]])))
  rows <- list()
  for (i in seq_along(levels)) {
    fi <- if (is.null(f)) fit else fit[i]
    q <- quantile(fi, probs = c(0.25, 0.5, 0.75), conf.int = TRUE)
    ci <- function(x) if (pr$median_ci) num(x) else rep(NA_real_, 3)
    lab <- levels[i]
    if (!is.null(f) && !is.factor(d[[f]])) lab <- c("0" = "no", "1" = "yes")[[lab]]
    rows[[i]] <- list(endpoint = e, group = if (is.null(f)) "all" else f, level = lab,
                      n = num(fi$n), events = sum(fi$n.event),
                      probs = c(0.25, 0.5, 0.75), quantile = num(q$quantile),
                      lower = ci(q$lower), upper = ci(q$upper))
  }
  list(fit = fit, rows = rows)
}

landmark_rows <- function(fit, e) {
  s <- summary(fit, times = LANDMARKS)
  list(endpoint = e, time = num(s$time), surv = num(s$surv), std_err = num(s$std.err),
       lower = num(s$lower), upper = num(s$upper), n_risk = num(s$n.risk))
}

# ---------------------------------------------------------------------------- Cox
cox_fit <- function(d, vars, ties, time = "time", start = NULL) {
  lhs <- if (is.null(start)) paste0("Surv(", time, ", event)") else paste0("Surv(", start, ", ", time, ", event)")
  coxph(as.formula(paste(lhs, "~", paste(vars, collapse = " + "))), data = d, ties = ties, control = CTRL)
}
cox_rows <- function(fit, e, model) {
  s <- summary(fit, conf.int = 0.95)
  cf <- s$coefficients
  ci <- s$conf.int
  list(endpoint = e, model = model, terms = as.list(rownames(cf)), coef = num(cf[, "coef"]),
       se = num(cf[, "se(coef)"]), hr = num(cf[, "exp(coef)"]), p = num(cf[, "Pr(>|z|)"]),
       ci_low = num(ci[, "lower .95"]), ci_high = num(ci[, "upper .95"]),
       n = fit$n, events = fit$nevent, concordance = num(fit$concordance["concordance"]))
}
wald_p <- function(fit, v) {          # joint Wald p of a covariate (all its columns)
  idx <- which(attr(terms(fit), "term.labels")[attr(model.matrix(fit), "assign")] == v)
  b <- coef(fit)[idx]
  pchisq(drop(t(b) %*% solve(vcov(fit)[idx, idx, drop = FALSE], b)), length(idx), lower.tail = FALSE)
}

cox_section <- function(e, pr) {
  d <- endpoint_data(e)
  rows <- list()
  p_uni <- c()
  for (f in FACTORS) {
    fit <- cox_fit(d[!is.na(d[[f]]), ], f, pr$ties)
    rows[[length(rows) + 1]] <- cox_rows(fit, e, "univariate")
    p_uni[f] <- wald_p(fit, f)
  }
  chosen <- FACTORS[p_uni < THRESHOLD]
  step <- list(removed = character(0), removed_p = numeric(0), kept = character(0))
  zph <- NULL
  if (length(chosen)) {
    cc <- d[complete.cases(d[, chosen, drop = FALSE]), ]
    multi <- cox_fit(cc, chosen, pr$ties)
    rows[[length(rows) + 1]] <- cox_rows(multi, e, "multivariate")
    z <- cox.zph(multi, transform = "km", terms = TRUE)$table
    zph <- list(endpoint = e, terms = as.list(rownames(z)), chisq = num(z[, "chisq"]), df = num(z[, "df"]),
                p = num(z[, "p"]))
    keep <- chosen
    repeat {
      fit <- cox_fit(cc, keep, pr$ties)
      p <- sapply(keep, function(v) wald_p(fit, v))
      if (max(p) < THRESHOLD || length(keep) == 1) break
      worst <- keep[which.max(p)]
      step$removed <- c(step$removed, worst)
      step$removed_p <- c(step$removed_p, max(p))
      keep <- setdiff(keep, worst)
    }
    step$kept <- keep
    rows[[length(rows) + 1]] <- cox_rows(fit, e, "stepwise")
  }
  list(rows = rows, multivariate_factors = chosen, stepwise = step, zph = zph)
}

post_baseline_section <- function(e, pr) {
  d <- endpoint_data(e)
  out <- list()
  for (f in intersect(names(POST), FACTORS)) {
    tc <- d[[POST[[f]]]]
    # landmark: alive and in follow-up after month 3; exposed = factor happened by month 3
    lm <- d[d$time > LANDMARK_COX, ]
    lm$x <- as.numeric(!is.na(lm[[POST[[f]]]]) & lm[[f]] == 1 & lm[[POST[[f]]]] <= LANDMARK_COX)
    lm$time <- lm$time - LANDMARK_COX
    fit <- cox_fit(lm, "x", pr$ties)
    r <- cox_rows(fit, e, "landmark")
    out[[length(out) + 1]] <- list(endpoint = e, variable = f, analysis = "landmark",
                                   hr = r$hr, ci_low = r$ci_low, ci_high = r$ci_high, p = r$p,
                                   logrank_p = survdiff_test(lm, "x", 0)$p, n = r$n, events = r$events)
    # time-dependent: x switches from 0 to 1 at the factor date (tmerge tdc)
    base <- data.frame(id = d$patient_id, time = d$time, event = d$event)
    cp <- tmerge(base, base, id = id, ev = event(time, event))
    sw <- data.frame(id = d$patient_id, tc = tc)[d[[f]] == 1 & !is.na(tc), ]
    cp <- tmerge(cp, sw, id = id, x = tdc(tc))
    cp$x[is.na(cp$x)] <- 0
    cp$event <- cp$ev
    fit <- cox_fit(cp, "x", pr$ties, time = "tstop", start = "tstart")
    r <- cox_rows(fit, e, "time-dependent")
    out[[length(out) + 1]] <- list(endpoint = e, variable = f, analysis = "time-dependent",
                                   hr = r$hr, ci_low = r$ci_low, ci_high = r$ci_high, p = r$p,
                                   n = length(unique(cp$id)), events = r$events, rows = nrow(cp))
  }
  out
}

# ----------------------------------------------------------------------- response
prop_ci <- function(x, n, method) {
  if (method == "exact") return(num(binom.test(x, n, conf.level = 0.95)$conf.int))
  p <- x / n
  half <- qnorm(0.975) * sqrt(p * (1 - p) / n)
  c(max(0, p - half), min(1, p + half))
}
response_section <- function(pr) {
  rows <- list()
  n <- nrow(fac)
  for (a in c("best", "final")) {
    v <- fac[[paste0(a, "_response")]]
    counts <- c(sapply(c("CR", "PR", "SD", "PD", "NE"), function(k) sum(v == k, na.rm = TRUE)),
                "not assessed" = sum(is.na(v)))
    counts["ORR (CR+PR)"] <- counts[["CR"]] + counts[["PR"]]
    counts["CR rate"] <- counts[["CR"]]
    for (k in names(counts)) {
      ci <- prop_ci(counts[[k]], n, pr$binomial)
      rows[[length(rows) + 1]] <- list(assessment = a, category = k, n = counts[[k]], denominator = n,
                                       pct = 100 * counts[[k]] / n, ci_low = 100 * ci[1], ci_high = 100 * ci[2])
    }
  }
  rows
}

association_section <- function(pr) {
  rows <- list()
  for (o in c("orr_best", "cr_best")) for (f in FACTORS) {
    ok <- !is.na(fac[[o]]) & !is.na(fac[[f]])
    tab <- table(fac[[o]][ok], as.character(fac[[f]][ok]))
    if (min(dim(tab)) < 2) next
    expected <- suppressWarnings(chisq.test(tab, correct = FALSE)$expected)
    if (all(expected >= 5)) {
      ct <- chisq.test(tab, correct = pr$correct)
      rows[[length(rows) + 1]] <- list(outcome = o, variable = f, test = "chisq", statistic = num(ct$statistic),
                                       df = num(ct$parameter), p = num(ct$p.value), min_expected = min(expected),
                                       n = sum(tab))
    } else {
      rows[[length(rows) + 1]] <- list(outcome = o, variable = f, test = "fisher", statistic = NA, df = NA,
                                       p = num(fisher.test(tab)$p.value), min_expected = min(expected),
                                       n = sum(tab))
    }
  }
  rows
}

# ----------------------------------------------------------------------- profiles
run_profile <- function(pr) {
  survival_rows <- list(); landmarks <- list()
  for (e in ENDPOINTS) {
    d <- endpoint_data(e)
    k <- km_rows(d, e, NULL, pr)
    survival_rows <- c(survival_rows, k$rows)
    landmarks[[length(landmarks) + 1]] <- landmark_rows(k$fit, e)
  }
  group_tests <- list()
  for (e in FACTOR_ENDPOINTS) for (f in FACTORS) {
    d <- endpoint_data(e)
    d <- d[!is.na(d[[f]]), ]
    survival_rows <- c(survival_rows, km_rows(d, e, f, pr)$rows)
    add <- function(name, r) group_tests[[length(group_tests) + 1]] <<-
      list(endpoint = e, variable = f, test = name, statistic = r$statistic, df = r$df, p = r$p, n = nrow(d))
    add("logrank", survdiff_test(d, f, 0))
    add("gehan", weighted_chisq(d$time, d$event, d[[f]], W_GEHAN))
    if (pr$wilcoxon == "peto-peto") add("peto-peto", survdiff_test(d, f, 1))
  }
  os <- endpoint_data("OS")
  rk <- quantile(survfit(Surv(time, 1 - event) ~ 1, data = os, conf.type = pr$conf_type), probs = 0.5,
                 conf.int = TRUE)
  follow_up <- list(median = num(rk$quantile), lower = num(rk$lower), upper = num(rk$upper), n = nrow(os),
                    median_observation_all = median(os$time),
                    median_observation_alive = median(os$time[os$event == 0]))
  cox <- list(); multivariate <- list(); stepwise <- list(); post <- list(); ph <- list()
  for (e in FACTOR_ENDPOINTS) {
    cs <- cox_section(e, pr)
    cox <- c(cox, cs$rows)
    multivariate[[e]] <- as.list(cs$multivariate_factors)          # always a JSON array
    stepwise[[e]] <- lapply(cs$stepwise, as.list)
    if (!is.null(cs$zph)) ph[[length(ph) + 1]] <- cs$zph
    post <- c(post, post_baseline_section(e, pr))
  }
  list(settings = pr, survival = survival_rows, landmarks = landmarks, follow_up = follow_up,
       group_tests = group_tests, cox = cox, multivariate_factors = multivariate, stepwise = stepwise,
       ph_tests = ph,
       post_baseline = post, response = response_section(pr), associations = association_section(pr))
}

fixture <- list(
  generated_by = "reference/r/demo_study.R",
  inputs = list(endpoints = "data/demo_endpoints.csv", factors = "data/demo_factors.csv"),
  r_version = R.version.string,
  survival_version = as.character(packageVersion("survival")),
  factors = as.list(FACTORS),
  not_computed = list(spss = paste(
    "Median and quartile CIs: SPSS prints median +/- 1.96 SE with a density-based SE, which R's",
    "survival package does not compute; only the point estimates are written (CIs null).")),
  profiles = lapply(profiles, run_profile)
)
writeLines(toJSON(fixture, auto_unbox = TRUE, digits = I(17), na = "null", null = "null", pretty = 1),
           file.path(out_dir, "demo_study.json"))
cat("wrote", file.path(out_dir, "demo_study.json"), "\n")
