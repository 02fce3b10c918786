# The examples (examples/*.lua), each run as a learner runs it:
# `vmsim run --no-color SCRIPT` must exit 0, that is, finish without a
# script error and with every expect/expect_eq holding. Outside the
# sanitizer build each also runs under the standard lua5.4 interpreter with
# the built module (a module built with ASan cannot be loaded there), with
# expect/expect_eq taken from the module and the failures as exit status.
file(GLOB VMSIM_EXAMPLES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/examples/*.lua)
find_program(VMSIM_EXAMPLES_LUA lua5.4)
foreach(script ${VMSIM_EXAMPLES})
  get_filename_component(name ${script} NAME_WE)
  add_test(NAME example_${name} COMMAND vmsim_tool run --no-color ${script})
  set_tests_properties(example_${name} PROPERTIES FAIL_REGULAR_EXPRESSION "Sanitizer")
  if(VMSIM_EXAMPLES_LUA AND NOT VMSIM_SANITIZE)
    add_test(NAME example_${name}_lua5.4
             COMMAND ${VMSIM_EXAMPLES_LUA} -e
                     "vmsim = require 'vmsim' expect, expect_eq = vmsim.expect, vmsim.expect_eq dofile('${script}') os.exit(vmsim.failures() == 0, true)")
    set_tests_properties(example_${name}_lua5.4 PROPERTIES
                         ENVIRONMENT "LUA_CPATH=${CMAKE_BINARY_DIR}/lua/?.so")
  endif()
endforeach()
if(NOT VMSIM_EXAMPLES_LUA)
  message(NOTICE "lua5.4 not found: the examples run through `vmsim run` only")
endif()
# examples/README.md's narrated excerpt is what its example prints.
add_test(NAME example_readme_excerpt
         COMMAND sh ${CMAKE_SOURCE_DIR}/examples/check_excerpt.sh $<TARGET_FILE:vmsim_tool>
                 ${CMAKE_SOURCE_DIR}/examples/README.md)
