// A store decorator that writes one op-log line per operation (op_log.h). It is the ONE layer that
// logs: backends never do, so each operation appears exactly once whatever the backend does
// internally (ranged GETs, multipart parts, retries and the default implementations of
// delete_prefix / copy are parts of one logged call, not lines of their own).
//
// What each call logs (op, n_objects, bytes; endpoint/file always split from the URI given):
//   get, get_to_sink,       GET        1       bytes returned
//   get_with_buffer
//   get_range, get_into     GET_RANGE  1       bytes returned (the offset is not a warp column)
//   put, put_multipart      PUT        1       data size
//   create_writer           PUT        1       bytes_written(), one line at finalize()/cancel()/
//                                              destruction, spanning creation to that moment
//   stat (and exists)       STAT       1       object size
//   list_entries (and list),LIST       entries 0
//   list_stream,
//   list_keys_stream
//   delete_object           DELETE     1       0
//   delete_prefix           DELETE_PREFIX deleted 0
//   copy / rename           COPY / RENAME 1    0   (file = the source; the destination is not a
//                                              warp column, so replay skips these)
//   create_container, delete_container, list_containers: CREATE_CONTAINER, DELETE_CONTAINER,
//                           LIST_CONTAINERS (n_objects = containers listed)
//
// first_byte is measured only where the payload reaches the caller in pieces: get_to_sink records
// the instant the first chunk was handed to the sink. Calls that return the payload in one piece
// (get, get_range, get_into) and every non-read leave it empty: no earlier instant is observable
// through the interface, and the column is never filled with a guess.
#pragma once

#include <memory>

#include "omnio/object_store.h"
#include "omnio/op_log.h"

namespace omnio {

/// Wraps `store` so that every operation is recorded in `log`. A null `log` returns `store`
/// unchanged. The result keeps both alive.
std::shared_ptr<ObjectStore> with_op_log(std::shared_ptr<ObjectStore> store,
                                         std::shared_ptr<OpLog> log);

}  // namespace omnio
