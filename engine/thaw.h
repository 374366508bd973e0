/* Thaw engine: the public API in one include. */
#ifndef THAW_H
#define THAW_H

#include "core/rng.h"
#include "core/status.h"
#include "kernels/backend.h"
#include "model/model.h"
#include "model/optimizer.h"
#include "model/semantics.h"
#include "model/summary.h"
#include "model/train.h"
#include "model/cache.h"
#include "data/dataset.h"
#include "io/checkpoint.h"
#include "io/keras_h5.h"
#include "data/folder.h"
#include "data/idx.h"
#include "data/png.h"
#include "data/transform.h"

#endif
