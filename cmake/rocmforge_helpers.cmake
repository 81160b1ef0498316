# Helpers that give every module and test the same warnings, sanitizers and layout.

set(RF_WARNING_FLAGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
    -Wunused -Wnull-dereference -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(RF_WERROR)
    list(APPEND RF_WARNING_FLAGS -Werror)
endif()

function(rf_apply_common target)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${RF_WARNING_FLAGS}>)
    if(RF_SANITIZERS)
        target_compile_options(${target} PRIVATE -fsanitize=${RF_SANITIZERS} -fno-omit-frame-pointer
                                                 -fno-sanitize-recover=all)
        target_link_options(${target} PRIVATE -fsanitize=${RF_SANITIZERS})
    endif()
endfunction()

# rf_add_module(NAME SOURCES a.cpp ... DEPS rf_core ...): one static library per src/ folder.
# Headers are included as "module/file.h" from src/.
function(rf_add_module name)
    cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
    add_library(rf_${name} STATIC ${ARG_SOURCES})
    target_include_directories(rf_${name} PUBLIC ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/include)
    target_link_libraries(rf_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
    rf_apply_common(rf_${name})
endfunction()

# rf_add_test(NAME SOURCES a.cpp ... DEPS rf_gguf ...): one GoogleTest binary, discovered by CTest.
function(rf_add_test name)
    cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
    add_executable(${name} ${ARG_SOURCES})
    target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
    target_compile_definitions(${name} PRIVATE
        RF_SHARED_TESTDATA="${RF_SHARED_TESTDATA}"
        RF_FIXTURES_DIR="${CMAKE_SOURCE_DIR}/tests/fixtures"
        RF_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
    rf_apply_common(${name})
    include(GoogleTest)
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 600)
endfunction()
