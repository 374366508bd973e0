/* ThawModelPane: see thaw-model-pane.h. (Placeholder while the pane is written.) */
#include "thaw-model-pane.h"
