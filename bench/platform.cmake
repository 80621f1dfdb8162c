vtdsim_bench(bench_platform SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/bench_platform.cc
             DEPS vtdsim::platform)
