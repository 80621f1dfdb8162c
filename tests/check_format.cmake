# Fails when a project source file does not match .clang-format, naming every such file.
# Run by ctest: cmake -DSOURCE_DIR=<repo> [-DCLANG_FORMAT=<program>] -P check_format.cmake
# Checks the .h/.cc files of the project folders, skipping build*/ and hidden directories.
# A missing clang-format is a failure, not a skip (scripts/setup.sh installs it).
if(NOT SOURCE_DIR)
  message(FATAL_ERROR "format: pass -DSOURCE_DIR=<repository root>")
endif()
if(NOT EXISTS ${SOURCE_DIR}/.clang-format)
  message(FATAL_ERROR "format: ${SOURCE_DIR}/.clang-format is missing")
endif()
if(NOT CLANG_FORMAT)
  find_program(CLANG_FORMAT NAMES clang-format clang-format-14 clang-format-15 clang-format-16)
endif()
if(NOT CLANG_FORMAT)
  message(FATAL_ERROR "format: clang-format not found on PATH; install the Debian package "
                      "clang-format (bash scripts/setup.sh does) and re-run the tests")
endif()

set(folders model irq_remap iommu pci platform host passthrough workload tools bench tests)
set(files)
foreach(folder ${folders})
  if(NOT IS_DIRECTORY ${SOURCE_DIR}/${folder})
    continue()
  endif()
  file(GLOB_RECURSE found LIST_DIRECTORIES false RELATIVE ${SOURCE_DIR}
       ${SOURCE_DIR}/${folder}/*.h ${SOURCE_DIR}/${folder}/*.cc)
  list(APPEND files ${found})
endforeach()
# Skip build trees and hidden directories at any depth (paths are relative to SOURCE_DIR).
list(FILTER files EXCLUDE REGEX "(^|/)(build[^/]*|\\.[^/]*)/")
list(SORT files)
list(LENGTH files count)
if(count EQUAL 0)
  message(FATAL_ERROR "format: no .h/.cc files found under ${SOURCE_DIR}")
endif()

# Fast path: one clang-format run over everything; only on failure check file by file.
execute_process(COMMAND ${CLANG_FORMAT} --dry-run --Werror --style=file ${files}
                WORKING_DIRECTORY ${SOURCE_DIR}
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
if(rc EQUAL 0)
  message(STATUS "format: ${count} files ok (${CLANG_FORMAT})")
  return()
endif()

set(bad)
foreach(f ${files})
  execute_process(COMMAND ${CLANG_FORMAT} --dry-run --Werror --style=file ${f}
                  WORKING_DIRECTORY ${SOURCE_DIR}
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    list(APPEND bad ${f})
    string(REGEX MATCH "^[^\n]*" first "${err}")
    message("format: ${f}: ${first}")
  endif()
endforeach()
if(bad)
  list(LENGTH bad nbad)
  list(JOIN bad "\n  " listing)
  message(FATAL_ERROR "format: ${nbad} of ${count} file(s) differ from .clang-format "
                      "(fix with clang-format -i):\n  ${listing}")
endif()
message(FATAL_ERROR "format: clang-format failed on the whole set (exit ${rc}) but on no single "
                    "file; run ${CLANG_FORMAT} --dry-run --Werror by hand")
