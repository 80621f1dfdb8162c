vtdsim_bench(bench_irq_remap SOURCES bench_irq_remap.cc DEPS vtdsim::irq_remap)
