# Reference values from R for rwestudy.stats.{proportions,descriptive,association}.
#
# Run from the repository root:
#     Rscript reference/r/descriptive_tests.R
# Writes tests/fixtures/r/descriptive_tests.json (inputs and R's outputs).
# Needs jsonlite (Debian: apt-get install r-cran-jsonlite). jsonlite prints at
# most 15 significant digits (digits = NA), ample for the tests' rtol = 1e-6.
#
# Jeffreys and Agresti-Coull intervals have no base-R function: they are
# computed here from their textbook formulas (qbeta / qnorm), with the
# Brown-Cai-DasGupta (2001) convention that Jeffreys' lower bound is 0 at x = 0
# and the upper bound is 1 at x = n.

suppressPackageStartupMessages(library(jsonlite))

out <- list(
  generated_by = "reference/r/descriptive_tests.R",
  r_version = R.version.string
)

# ---------------------------------------------------------------- proportions
prop_cases <- list(
  c(0, 10), c(1, 10), c(5, 10), c(10, 10), c(3, 83), c(41, 83), c(83, 83),
  c(0, 1), c(1, 1), c(17, 40), c(1, 2), c(29, 83)
)
conf_levels <- c(0.95, 0.90)

jeffreys <- function(x, n, conf) {
  a <- (1 - conf) / 2
  lo <- if (x == 0) 0 else qbeta(a, x + 0.5, n - x + 0.5)
  hi <- if (x == n) 1 else qbeta(1 - a, x + 0.5, n - x + 0.5)
  c(lo, hi)
}
agresti_coull <- function(x, n, conf) {
  z <- qnorm(1 - (1 - conf) / 2)
  n_t <- n + z^2
  p_t <- (x + z^2 / 2) / n_t
  half <- z * sqrt(p_t * (1 - p_t) / n_t)
  c(max(0, p_t - half), min(1, p_t + half))
}
# Newcombe (1998) method 4: Wilson score interval with continuity correction.
# prop.test(correct = TRUE) gives it too, except when x == n/2 exactly: there
# prop.test shrinks the correction to |x - n/2| = 0 (its null p is 0.5).
wilson_cc_formula <- function(x, n, conf) {
  z <- qnorm(1 - (1 - conf) / 2)
  p <- x / n; q <- 1 - p
  lo <- if (x == 0) 0 else
    (2 * n * p + z^2 - 1 - z * sqrt(z^2 - 2 - 1 / n + 4 * p * (n * q + 1))) / (2 * (n + z^2))
  hi <- if (x == n) 1 else
    (2 * n * p + z^2 + 1 + z * sqrt(z^2 + 2 - 1 / n + 4 * p * (n * q - 1))) / (2 * (n + z^2))
  c(max(0, lo), min(1, hi))
}
wald <- function(x, n, conf, cc = FALSE) {
  z <- qnorm(1 - (1 - conf) / 2)
  p <- x / n
  half <- z * sqrt(p * (1 - p) / n) + if (cc) 1 / (2 * n) else 0
  c(max(0, p - half), min(1, p + half))
}

proportions <- list()
for (conf in conf_levels) {
  for (case in prop_cases) {
    x <- case[1]; n <- case[2]
    proportions[[length(proportions) + 1]] <- list(
      x = x, n = n, conf_level = conf,
      exact = as.numeric(binom.test(x, n, conf.level = conf)$conf.int),
      wilson = as.numeric(suppressWarnings(prop.test(x, n, conf.level = conf, correct = FALSE))$conf.int),
      wilson_cc_prop_test = as.numeric(suppressWarnings(prop.test(x, n, conf.level = conf, correct = TRUE))$conf.int),
      wilson_cc = wilson_cc_formula(x, n, conf),
      jeffreys = jeffreys(x, n, conf),
      agresti_coull = agresti_coull(x, n, conf),
      wald = wald(x, n, conf),
      wald_cc = wald(x, n, conf, cc = TRUE)
    )
  }
}
out$proportions <- proportions

# ------------------------------------------------------------------ quantiles
set.seed(83)
age83 <- round(rnorm(83, mean = 61, sd = 13))          # ties, like ages in years
ldh83 <- round(exp(rnorm(83, log(260), 0.5)))           # skewed lab value
quantile_vectors <- list(
  four = c(1, 2, 3, 4),
  ties = c(1, 2, 2, 3, 3, 3, 10),
  ten = c(5.5, 1.2, 9.9, 3.3, 3.3, 7.1, 2.8, 6.4, 8.0, 4.6),
  single = c(7),
  age83 = age83,
  ldh83 = ldh83
)
probs <- c(0, 0.1, 0.25, 0.5, 0.75, 0.9, 1)
quantiles <- list()
for (name in names(quantile_vectors)) {
  v <- quantile_vectors[[name]]
  quantiles[[name]] <- list(
    x = v, probs = probs,
    type2 = unname(quantile(v, probs, type = 2)),
    type6 = unname(quantile(v, probs, type = 6)),
    type7 = unname(quantile(v, probs, type = 7)),
    mean = mean(v),
    sd = if (length(v) > 1) sd(v) else NA
  )
}
out$quantiles <- quantiles

# ---------------------------------------------------------------- chi-square
chisq_tables <- list(
  t2x2 = matrix(c(12, 7, 5, 15), 2),        # rows: (12, 5), (7, 15)
  t2x2b = matrix(c(30, 20, 13, 20), 2),     # n = 83
  t2x3 = matrix(c(10, 20, 15, 12, 9, 17), 2),
  t3x3 = matrix(c(12, 8, 6, 9, 11, 7, 5, 10, 15), 3)
)
chisq <- list()
for (name in names(chisq_tables)) {
  m <- chisq_tables[[name]]
  r_true <- chisq.test(m, correct = TRUE)
  r_false <- chisq.test(m, correct = FALSE)
  chisq[[name]] <- list(
    table = lapply(seq_len(nrow(m)), function(i) m[i, ]),
    expected = lapply(seq_len(nrow(m)), function(i) unname(r_false$expected[i, ])),
    statistic_correct = unname(r_true$statistic), p_correct = r_true$p.value,
    statistic = unname(r_false$statistic), p = r_false$p.value,
    df = unname(r_false$parameter)
  )
}
out$chisq <- chisq

# -------------------------------------------------------------------- Fisher
rows_of <- function(m) lapply(seq_len(nrow(m)), function(i) m[i, ])
fisher_2x2 <- list(
  a = matrix(c(3, 1, 1, 3), 2, byrow = TRUE),
  b = matrix(c(6, 2, 1, 4), 2, byrow = TRUE),
  c = matrix(c(10, 2, 3, 15), 2, byrow = TRUE),
  d = matrix(c(0, 5, 5, 0), 2, byrow = TRUE),
  e = matrix(c(1, 9, 11, 3), 2, byrow = TRUE),
  f = matrix(c(7, 12, 0, 5), 2, byrow = TRUE),
  g = matrix(c(20, 21, 19, 23), 2, byrow = TRUE)   # n = 83, p close to 1
)
fisher2 <- list()
for (name in names(fisher_2x2)) {
  m <- fisher_2x2[[name]]
  fisher2[[name]] <- list(
    table = rows_of(m),
    p = fisher.test(m)$p.value,
    p_less = fisher.test(m, alternative = "less")$p.value,
    p_greater = fisher.test(m, alternative = "greater")$p.value
  )
}
out$fisher_2x2 <- fisher2

fisher_rxc <- list(
  a = matrix(c(8, 2, 3, 1, 5, 4), 2, byrow = TRUE),
  b = matrix(c(3, 0, 2, 1, 4, 1, 0, 2, 5), 3, byrow = TRUE),
  c = matrix(c(10, 12, 8, 6, 20, 9, 11, 7), 2, byrow = TRUE),   # n = 83
  d = matrix(c(2, 7, 1, 4, 3, 1, 0, 5, 6, 2, 1, 3), 3, byrow = TRUE),
  e = matrix(c(1, 0, 0, 0, 1, 0, 0, 0, 1), 3, byrow = TRUE),
  f = matrix(c(5, 8, 6, 4, 9, 3, 7, 8, 10, 6, 9, 8), 3, byrow = TRUE),   # 3x4, n = 83
  # 4x5, n = 78: too large for rwestudy's exact enumeration, so its simulated
  # p is compared with this exact p within Monte-Carlo error only.
  g = matrix(c(3, 5, 4, 2, 6, 5, 3, 4, 6, 2, 4, 4, 5, 3, 4, 6, 2, 5, 3, 2), 4, byrow = TRUE)
)
fisherrc <- list()
for (name in names(fisher_rxc)) {
  m <- fisher_rxc[[name]]
  fisherrc[[name]] <- list(table = rows_of(m), p = fisher.test(m, workspace = 2e8)$p.value)
}
out$fisher_rxc <- fisherrc

# ------------------------------------------------------ two-group continuous
set.seed(2024)
g1 <- round(rnorm(40, 62, 11), 1)
g2 <- round(rnorm(43, 57, 14), 1)
small1 <- c(1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30)
small2 <- c(0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.07, 3.14, 1.28)   # pooled: no ties
tied1 <- c(2, 3, 3, 4, 5, 5, 5, 6, 8, 9, 1, 4)
tied2 <- c(4, 6, 6, 7, 7, 8, 9, 9, 10, 3, 5, 7, 8)
big1 <- round(rexp(55, 1 / 12), 3)            # n >= 50, no ties: normal approx
big2 <- round(rexp(60, 1 / 16), 3)

two_group <- function(x, y) {
  tt <- t.test(x, y, var.equal = FALSE)
  w <- suppressWarnings(wilcox.test(x, y, correct = TRUE))
  w_approx <- suppressWarnings(wilcox.test(x, y, exact = FALSE, correct = TRUE))
  list(
    x = x, y = y,
    ties = length(unique(c(x, y))) != length(c(x, y)),
    welch_t = unname(tt$statistic), welch_df = unname(tt$parameter), welch_p = tt$p.value,
    wilcox_W = unname(w$statistic), wilcox_p = w$p.value,
    wilcox_method = w$method,
    wilcox_exact_used = grepl("exact", w$method),
    wilcox_approx_p = w_approx$p.value,
    shapiro_x_W = unname(shapiro.test(x)$statistic), shapiro_x_p = shapiro.test(x)$p.value,
    shapiro_y_W = unname(shapiro.test(y)$statistic), shapiro_y_p = shapiro.test(y)$p.value
  )
}
out$two_group <- list(
  normal83 = two_group(g1, g2),
  small_no_ties = two_group(small1, small2),
  tied = two_group(tied1, tied2),
  large_no_ties = two_group(big1, big2)
)

# ---------------------------------------------------------- k-group continuous
set.seed(7)
k_groups <- list(
  A = round(rnorm(25, 50, 8)),
  B = round(rnorm(30, 55, 8)),
  C = round(rnorm(28, 53, 12))
)
values <- unlist(k_groups, use.names = FALSE)
group <- factor(rep(names(k_groups), lengths(k_groups)))
kw <- kruskal.test(values ~ group)
aov_tab <- summary(aov(values ~ group))[[1]]
ow_eq <- oneway.test(values ~ group, var.equal = TRUE)
ow_welch <- oneway.test(values ~ group, var.equal = FALSE)
out$k_group <- list(
  groups = k_groups,
  kruskal_statistic = unname(kw$statistic), kruskal_df = unname(kw$parameter), kruskal_p = kw$p.value,
  aov_F = aov_tab[["F value"]][1], aov_df1 = aov_tab[["Df"]][1], aov_df2 = aov_tab[["Df"]][2],
  aov_p = aov_tab[["Pr(>F)"]][1],
  oneway_equal_F = unname(ow_eq$statistic), oneway_equal_p = ow_eq$p.value,
  oneway_welch_F = unname(ow_welch$statistic), oneway_welch_df = unname(ow_welch$parameter),
  oneway_welch_p = ow_welch$p.value
)

# ------------------------------------------------------------------ Shapiro
shapiro_vectors <- list(
  three = c(1, 2, 4),
  small = c(2.1, 3.4, 1.9, 5.6, 4.4, 3.3, 2.8),
  age83 = age83,
  ldh83 = ldh83,
  unif = round(seq(0, 1, length.out = 30)^2, 4)
)
out$shapiro <- lapply(shapiro_vectors, function(v) {
  s <- shapiro.test(v)
  list(x = v, W = unname(s$statistic), p = s$p.value)
})

dir.create("tests/fixtures/r", recursive = TRUE, showWarnings = FALSE)
writeLines(
  toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"),
  "tests/fixtures/r/descriptive_tests.json"
)
cat("wrote tests/fixtures/r/descriptive_tests.json\n")
