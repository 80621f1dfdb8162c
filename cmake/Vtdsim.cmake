# Helpers that declare a folder's library, its tests and benchmarks with the project's
# warnings and sanitizer flags. No global include directories: targets carry them.

set(VTDSIM_WARNINGS -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wimplicit-fallthrough -Werror)
# -Wnull-dereference is left out: at -O2 it reports false positives inside libstdc++ strings.

function(vtdsim_apply_flags target)
  target_compile_options(${target} PRIVATE ${VTDSIM_WARNINGS})
  if(VTDSIM_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined
                                             -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# vtdsim_library(<folder> SOURCES ... DEPS ...) declares vtdsim_<folder> / vtdsim::<folder>.
function(vtdsim_library folder)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "vtdsim_library(${folder}): no sources")
  endif()
  add_library(vtdsim_${folder} STATIC ${ARG_SOURCES})
  add_library(vtdsim::${folder} ALIAS vtdsim_${folder})
  target_include_directories(vtdsim_${folder} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(vtdsim_${folder} PUBLIC ${ARG_DEPS})
  vtdsim_apply_flags(vtdsim_${folder})
  if(VTDSIM_SANITIZE)
    target_link_options(vtdsim_${folder} INTERFACE -fsanitize=address,undefined)
  endif()
endfunction()

# vtdsim_test(<name> SOURCES ... DEPS ...) declares one GoogleTest executable and registers
# its tests with ctest.
function(vtdsim_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  vtdsim_apply_flags(${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60)
endfunction()

# vtdsim_bench(<name> SOURCES ... DEPS ...) declares one Google Benchmark program.
function(vtdsim_bench name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark benchmark::benchmark_main)
  vtdsim_apply_flags(${name})
endfunction()
