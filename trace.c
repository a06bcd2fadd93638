// SPDX-License-Identifier: GPL-2.0
/*
 * The one place that instantiates the trace events of nd_trace.h.
 */

#define CREATE_TRACE_POINTS
#include "nd_trace.h"
