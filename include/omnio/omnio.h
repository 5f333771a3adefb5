// Convenience umbrella header: the whole public API.
#pragma once

#include "omnio/bytes.h"
#include "omnio/cancel.h"
#include "omnio/config.h"
#include "omnio/constants.h"
#include "omnio/crc32c.h"
#include "omnio/datagen.h"
#include "omnio/error.h"
#include "omnio/file_system_config.h"
#include "omnio/object_store.h"
#include "omnio/range_engine.h"
#include "omnio/result.h"
#include "omnio/store_factory.h"
#include "omnio/uri.h"
