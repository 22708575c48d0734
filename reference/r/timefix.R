# Reference for rwestudy.stats.timefix (R's timefix / aeqSurv) on times that
# differ by floating-point noise. Run from the repo root: Rscript reference/r/timefix.R
# Writes tests/fixtures/r/timefix.json (the data is in the file: hex-exact doubles
# would be lost in CSV, so times are rebuilt in Python from the same expressions).
suppressPackageStartupMessages({library(survival); library(jsonlite)})
# months from days, and the same month count reached another way: equal on paper,
# not in binary (e.g. 0.1 * 3 vs 0.3)
time <- c(0.1 * 3, 0.3, 0.7, 0.7 + 1e-12, 1.1, 1.1 * (1 + 2e-9), 2, 2.5, 3, 3 + 1e-7)
event <- c(1, 1, 1, 0, 1, 1, 0, 1, 1, 1)
x <- c(1, 0, 1, 0, 0, 1, 1, 0, 1, 0)
f <- survfit(Surv(time, event) ~ 1)
s <- summary(f, censored = TRUE)
ff <- survfit(Surv(time, event) ~ 1, timefix = FALSE)
c1 <- coxph(Surv(time, event) ~ x, ties = "efron", control = coxph.control(eps = 1e-12))
c0 <- coxph(Surv(time, event) ~ x, ties = "efron", control = coxph.control(eps = 1e-12, timefix = FALSE))
ld <- survdiff(Surv(time, event) ~ x)
out <- list(km_time = s$time, km_surv = s$surv, km_n_risk = s$n.risk, n_times_fixed = length(f$time),
            n_times_raw = length(ff$time), cox_coef = unname(coef(c1)), cox_coef_nofix = unname(coef(c0)),
            logrank_chisq = ld$chisq)
writeLines(toJSON(out, digits = I(17), auto_unbox = TRUE), "tests/fixtures/r/timefix.json")
cat("written tests/fixtures/r/timefix.json\n")
