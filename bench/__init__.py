"""Benchmarks (`make bench`): each case in bench/cases/ measures a baseline and the real path in the same
run and reports their ratio against a target. See bench/__main__.py for the runner."""
