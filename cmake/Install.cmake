include(CMakePackageConfigHelpers)
install(DIRECTORY include/ortformers DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS ortformers ${ORTFORMERS_STAGES} EXPORT ortformersTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT ortformersTargets NAMESPACE ortformers:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ortformers)
# The ONNX Runtime library itself (the file behind the libonnxruntime.so symlink), as libonnxruntime.so.1.
get_filename_component(_ort_real "${ONNXRUNTIME_LIBRARY}" REALPATH)
install(FILES "${_ort_real}" DESTINATION ${CMAKE_INSTALL_LIBDIR} RENAME libonnxruntime.so.1)
install(DIRECTORY "${ONNXRUNTIME_INCLUDE_DIR}/" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/onnxruntime)
configure_package_config_file(cmake/ortformersConfig.cmake.in
  "${PROJECT_BINARY_DIR}/ortformersConfig.cmake"
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ortformers)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/ortformersConfigVersion.cmake" COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/ortformersConfig.cmake" "${PROJECT_BINARY_DIR}/ortformersConfigVersion.cmake"
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ortformers)
