"""The shipped demo study: a seeded synthetic R/R DLBCL cohort."""
