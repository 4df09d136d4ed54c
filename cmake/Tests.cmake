# One GoogleTest binary per folder under tests/ (tests/core -> test_core, ...). Adding a test is adding a file.
find_package(GTest REQUIRED)
include(GoogleTest)
file(GLOB _test_dirs LIST_DIRECTORIES true "${PROJECT_SOURCE_DIR}/tests/*")
foreach(dir ${_test_dirs})
  if(NOT IS_DIRECTORY ${dir})
    continue()
  endif()
  get_filename_component(name ${dir} NAME)
  if(name STREQUAL "support")
    continue()
  endif()
  file(GLOB_RECURSE _sources CONFIGURE_DEPENDS "${dir}/*.cpp")
  if(NOT _sources)
    continue()
  endif()
  add_executable(test_${name} ${_sources} ${PROJECT_SOURCE_DIR}/tests/support/fixtures.cpp)
  target_include_directories(test_${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/src)
  # A folder named after a stage links only that stage (and what it depends on); others link everything.
  if("ortformers_${name}" IN_LIST ORTFORMERS_STAGES)
    set(_lib $<LINK_LIBRARY:WHOLE_ARCHIVE,ortformers_${name}>)
  else()
    set(_lib ortformers)
  endif()
  target_link_libraries(test_${name} PRIVATE ${_lib} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(test_${name} PRIVATE
    ORTFORMERS_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    ORTFORMERS_CLI_PATH="$<$<TARGET_EXISTS:ortformers_cli>:$<TARGET_FILE:ortformers_cli>>")
  gtest_discover_tests(test_${name} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "ORTFORMERS_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endforeach()

# The installed package works with find_package(ortformers) (not under sanitizers: the example is built without them).
if(NOT ORTFORMERS_SANITIZE AND NOT ORTFORMERS_BUILD_FUZZ)
  if(DEFINED ENV{ORTFORMERS_FIXTURES})
    set(_fixtures "$ENV{ORTFORMERS_FIXTURES}")
  else()
    set(_fixtures "${PROJECT_SOURCE_DIR}/../shared/fixtures")
  endif()
  add_test(NAME install_and_find_package
           COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${PROJECT_BINARY_DIR} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
                   -DFIXTURES_DIR=${_fixtures} -P ${PROJECT_SOURCE_DIR}/cmake/InstallTest.cmake)
  set_tests_properties(install_and_find_package PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE)
endif()
