vtdsim_bench(bench_model SOURCES bench_model.cc DEPS vtdsim::model)
