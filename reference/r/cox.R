# Reference values for rwestudy.stats.cox, computed with R's survival package.
# Run from the repo root:  Rscript reference/r/cox.R
# Writes tests/fixtures/r/cox.json and tests/fixtures/r/data/cox_*.csv
# (data exported with 17 significant digits so Python reads identical doubles).
suppressPackageStartupMessages({library(survival); library(jsonlite)})

outdir <- "tests/fixtures/r"
dir.create(file.path(outdir, "data"), recursive = TRUE, showWarnings = FALSE)

write_data <- function(df, name) {
  out <- df
  for (v in names(out)) if (is.numeric(out[[v]])) {
    out[[v]] <- ifelse(is.na(out[[v]]), NA, sprintf("%.17g", out[[v]]))
  }
  write.csv(out, file.path(outdir, "data", paste0("cox_", name, ".csv")), row.names = FALSE, na = "")
}

# ---- data -------------------------------------------------------------------
lung_d <- survival::lung
lung_d$event <- as.integer(lung_d$status == 2)
# ECOG as a 3-level factor (the single ECOG 3 patient merged into "2-3")
lung_d$ecog <- factor(ifelse(is.na(lung_d$ph.ecog), NA,
                      ifelse(lung_d$ph.ecog >= 2, "2-3", as.character(lung_d$ph.ecog))),
                      levels = c("0", "1", "2-3"))
vet <- survival::veteran
vet$celltype <- as.character(vet$celltype)
vet$celltype <- factor(vet$celltype, levels = c("adeno", "large", "smallcell", "squamous"))
ova <- survival::ovarian
hrt <- survival::heart
hrt$transplant <- as.integer(as.character(hrt$transplant))

write_data(lung_d[, c("inst", "time", "event", "age", "sex", "ph.ecog", "ecog", "ph.karno",
                      "pat.karno", "meal.cal", "wt.loss")], "lung")
write_data(vet, "veteran")
write_data(ova, "ovarian")
write_data(hrt, "heart")

# ---- helpers ----------------------------------------------------------------
test_list <- function(stat, df) list(stat = unname(stat), df = unname(df),
                                     p = pchisq(unname(stat), unname(df), lower.tail = FALSE))

describe_fit <- function(fit) {
  s <- summary(fit, conf.int = 0.95)
  cf <- s$coefficients
  ci <- s$conf.int
  cc <- fit$concordance
  list(
    terms = rownames(cf),
    coef = unname(cf[, "coef"]), se = unname(cf[, "se(coef)"]),
    hr = unname(cf[, "exp(coef)"]), z = unname(cf[, "z"]), p = unname(cf[, "Pr(>|z|)"]),
    ci_low = unname(ci[, "lower .95"]), ci_high = unname(ci[, "upper .95"]),
    var = unname(fit$var),
    loglik = unname(fit$loglik),
    lr = test_list(s$logtest["test"], s$logtest["df"]),
    # summary() rounds the printed Wald statistic; take the fit's own values
    wald = test_list(fit$wald.test, length(coef(fit))),
    score = test_list(fit$score, length(coef(fit))),
    concordance = unname(cc["concordance"]), concordance_se = unname(cc["std"]),
    concordance_counts = unname(cc[c("concordant", "discordant", "tied.x", "tied.y", "tied.xy")]),
    n = fit$n, events = fit$nevent, iter = fit$iter
  )
}

describe_zph <- function(fit) {
  z <- cox.zph(fit, transform = "km", terms = TRUE)
  tb <- z$table
  list(rows = rownames(tb), chisq = unname(tb[, "chisq"]), df = unname(tb[, "df"]),
       p = unname(tb[, "p"]))
}

# ---- models -----------------------------------------------------------------
specs <- list(
  lung_basic   = list(data = "lung", f = Surv(time, event) ~ age + sex + ph.ecog),
  lung_wtloss  = list(data = "lung", f = Surv(time, event) ~ age + sex + ph.ecog + wt.loss),
  lung_factor  = list(data = "lung", f = Surv(time, event) ~ age + sex + ecog),
  lung_strata  = list(data = "lung", f = Surv(time, event) ~ age + ph.ecog + strata(sex)),
  veteran      = list(data = "veteran", f = Surv(time, status) ~ trt + celltype + karno + age + prior),
  ovarian      = list(data = "ovarian", f = Surv(futime, fustat) ~ age + rx + resid.ds + ecog.ps),
  heart        = list(data = "heart", f = Surv(start, stop, event) ~ age + year + surgery + transplant)
)
datasets <- list(lung = lung_d, veteran = vet, ovarian = ova, heart = hrt)

models <- list()
zph <- list()
for (nm in names(specs)) for (ties in c("breslow", "efron")) {
  sp <- specs[[nm]]
  fit <- coxph(sp$f, data = datasets[[sp$data]], ties = ties,
               control = coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100))
  key <- paste(nm, ties, sep = "_")
  models[[key]] <- c(list(data = sp$data, formula = deparse(sp$f), ties = ties), describe_fit(fit))
  zph[[key]] <- describe_zph(fit)
}

# ---- backward stepwise by hand on lung (Efron), Wald and LR rules -----------
# All steps on the same complete-case set of the candidate covariates.
cands <- c("age", "sex", "ecog", "ph.karno", "pat.karno", "meal.cal", "wt.loss")
cc <- lung_d[complete.cases(lung_d[, c("time", "event", cands)]), ]

term_wald_p <- function(fit, term) {
  a <- attr(model.matrix(fit), "assign")
  labs <- attr(terms(fit), "term.labels")
  idx <- which(labs[a] == term)
  b <- coef(fit)[idx]; V <- vcov(fit)[idx, idx, drop = FALSE]
  stat <- drop(t(b) %*% solve(V) %*% b)
  pchisq(stat, length(idx), lower.tail = FALSE)
}
term_lr_p <- function(fit, term, data, keep) {
  others <- setdiff(keep, term)
  rhs <- if (length(others)) paste(others, collapse = " + ") else "1"
  fit0 <- coxph(as.formula(paste("Surv(time, event) ~", rhs)), data = data,
                control = coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100))
  ll0 <- if (length(others)) fit0$loglik[2] else fit0$loglik[1]
  df <- sum(attr(model.matrix(fit), "assign") == which(attr(terms(fit), "term.labels") == term))
  pchisq(2 * (fit$loglik[2] - ll0), df, lower.tail = FALSE)
}
backward <- function(rule, threshold = 0.05) {
  keep <- cands; removed <- character(0); pvals <- numeric(0)
  repeat {
    fit <- coxph(as.formula(paste("Surv(time, event) ~", paste(keep, collapse = " + "))), data = cc,
                 control = coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100))
    p <- sapply(keep, function(t) if (rule == "wald") term_wald_p(fit, t) else term_lr_p(fit, t, cc, keep))
    worst <- names(which.max(p))
    if (max(p) < threshold || length(keep) == 1) break
    removed <- c(removed, worst); pvals <- c(pvals, unname(max(p)))
    keep <- setdiff(keep, worst)
  }
  list(removed = removed, removed_p = pvals, final_terms = keep,
       final_p = unname(p), final_coef = unname(coef(fit)), final_names = names(coef(fit)),
       n = fit$n, events = fit$nevent)
}
stepwise <- list(candidates = cands, n_complete = nrow(cc),
                 wald = backward("wald"), lr = backward("lr"))

out <- list(meta = list(R = R.version.string, survival = as.character(packageVersion("survival"))),
            models = models, zph = zph, stepwise = stepwise)
writeLines(toJSON(out, digits = I(17), auto_unbox = TRUE, pretty = TRUE, na = "null"),
           file.path(outdir, "cox.json"))
cat("wrote", file.path(outdir, "cox.json"), "\n")
