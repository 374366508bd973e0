/* ThawChart: see thaw-chart.h. (Placeholder while the widget is written.) */
#include "thaw-chart.h"
