# Benjamini-Hochberg q-values from R's p.adjust, the reference for
# rwestudy.analysis.mutation_survival.benjamini_hochberg.
# Rscript reference/r/p_adjust.R > tests/fixtures/r/p_adjust.json
p <- list(
  mixed = c(0.01, 0.04, 0.03, 0.005, 0.2, 0.8, 0.04, 0.5),
  ties = c(0.05, 0.05, 0.05, 0.001),
  large = c(0.9, 0.95, 0.99, 1),
  one = c(0.03),
  with_na = c(0.02, NA, 0.01, 0.3)
)
num <- function(x) ifelse(is.na(x), "null", formatC(x, digits = 17, format = "g"))
cases <- vapply(names(p), function(k) {
  sprintf('"%s": {"p": [%s], "bh": [%s]}', k, paste(num(p[[k]]), collapse = ", "),
          paste(num(p.adjust(p[[k]], method = "BH")), collapse = ", "))
}, "")
cat("{", paste(cases, collapse = ",\n "), "}\n", sep = "\n")
