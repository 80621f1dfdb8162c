vtdsim_bench(bench_iommu_translate SOURCES bench_iommu_translate.cc DEPS vtdsim::iommu)
