vtdsim_bench(bench_passthrough SOURCES bench_passthrough.cc DEPS vtdsim::passthrough)
