vtdsim_bench(bench_iommu_qi SOURCES bench_iommu_qi.cc DEPS vtdsim::iommu vtdsim::irq_remap)
