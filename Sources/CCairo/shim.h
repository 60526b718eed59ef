// cairo's drawing API and its PDF surface. Both import as they are: no variadic functions or
// function-like macros are called from Swift, so there is nothing to wrap.
#include <cairo.h>
#include <cairo-pdf.h>
