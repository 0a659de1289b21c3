/* round.h - rounding to an integer without a libm call, for the collector's hot path.
 *
 * nearbyint() is a call through the PLT on baseline x86-64 (no SSE4.1 roundsd), and it
 * showed as a tenth of the simulator's profile. Adding and subtracting 1.5 * 2^52 rounds
 * a double to the nearest integer, ties to even, in the default rounding mode: the same
 * result as nearbyint() for every |x| <= 2^51 (finstream never changes the rounding
 * mode). Only the sign of a zero can differ (-0.3 gives +0.0), which no caller can tell
 * from the value. */
#ifndef FIN_COLLECTOR_ROUND_H
#define FIN_COLLECTOR_ROUND_H

#include <math.h>

static inline double fin_round_even(double x)
{
    const double magic = 0x1.8p52;
    if (!(fabs(x) <= 0x1p51))
        return nearbyint(x);   /* large, infinite or NaN: already whole, or not a number */
    return (x + magic) - magic;
}

#endif
