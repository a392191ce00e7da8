# Cross-compiles for 64-bit ARM Linux (glibc) on another Linux host with Debian's or Ubuntu's
# GNU cross compiler (apt-get install g++-aarch64-linux-gnu), for the linux-arm64 prebuilt binary
# (scripts/build/prebuild.mjs --platform linux-arm64). CTXEMBED_AARCH64_PREFIX names another
# cross compiler prefix.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

if(DEFINED ENV{CTXEMBED_AARCH64_PREFIX})
  set(CTXEMBED_AARCH64_PREFIX "$ENV{CTXEMBED_AARCH64_PREFIX}")
else()
  set(CTXEMBED_AARCH64_PREFIX aarch64-linux-gnu-)
endif()
set(CMAKE_C_COMPILER ${CTXEMBED_AARCH64_PREFIX}gcc)
set(CMAKE_CXX_COMPILER ${CTXEMBED_AARCH64_PREFIX}g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Libraries and headers of the target only: never link a host (x86-64) library into the addon.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
