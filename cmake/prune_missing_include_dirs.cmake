# Work-around for the ROS 2 PyPI wheels: their exported targets (e.g.
# std_msgs::std_msgs__rosidl_generator_py) list include directories of the machine that built
# the wheels, which CMake's generate step rejects. At the end of configuration, drop include
# directories that do not exist from every imported target. No-op on a regular ROS 2 install.
function(mlnet_prune_missing_include_dirs)
  get_property(targets DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" PROPERTY IMPORTED_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
    if(NOT dirs)
      continue()
    endif()
    set(kept "")
    foreach(dir IN LISTS dirs)
      if(dir MATCHES "^\\$<" OR EXISTS "${dir}")
        list(APPEND kept "${dir}")
      endif()
    endforeach()
    if(NOT "${kept}" STREQUAL "${dirs}")
      set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${kept}")
    endif()
  endforeach()
endfunction()

cmake_language(DEFER DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" CALL mlnet_prune_missing_include_dirs)
