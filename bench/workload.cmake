vtdsim_bench(bench_workload SOURCES bench_workload.cc DEPS vtdsim::workload)
