vtdsim_bench(bench_pci SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/bench_pci.cc DEPS vtdsim::pci)
