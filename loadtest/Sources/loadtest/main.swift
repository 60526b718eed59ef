// The load generator (see loadtest/README.md). Being written.
print("loadtest: not built yet")
