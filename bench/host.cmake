vtdsim_bench(bench_host SOURCES bench_host.cc DEPS vtdsim::host)
