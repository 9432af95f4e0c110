// cmake/pch.h and the test framework: the precompiled header of every unit-test program.
#pragma once

#include "cmake/pch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
