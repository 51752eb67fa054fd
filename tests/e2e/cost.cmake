# Included by CTest after the e2e cases are discovered (TEST_INCLUDE_FILES). With -j 2, CTest
# starts the cases of highest COST first; on a machine that has no record of an earlier run
# (Testing/Temporary/CTestCostData.txt) every case costs the same, and the longest ones, which come
# late in the list, would run last and alone. Their costs are their seconds in a serial run.
set(e2e_long_cases
  "soak: random lifecycle actions" 140
  "a VM of an image whose command is a shell" 80
  "an engine that stops makes its host ERROR" 43
  "docker kill behind OpenNebula's back" 41
  "a container stopped by its memory limit" 41
  "a snapshot deleted from a running VM" 33
  "onevm recover --delete of a VM whose engine was stopped" 30
  "onehost disable keeps new VMs off a host" 28)
foreach(test IN LISTS e2e_tests_TESTS)
  set(pairs ${e2e_long_cases})
  while(pairs)
    list(POP_FRONT pairs prefix cost)
    string(FIND "${test}" "e2e.${prefix}" at)
    if(at EQUAL 0)
      set_tests_properties("${test}" PROPERTIES COST ${cost})
    endif()
  endwhile()
endforeach()
