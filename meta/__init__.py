"""litmeta's meta-analysis: effect sizes → random-effects models → results and plots (metafor-exact)."""
