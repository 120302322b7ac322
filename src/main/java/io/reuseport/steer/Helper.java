package io.reuseport.steer;

/** The kernel helpers the selector calls, with their numbers from {@code enum bpf_func_id}. */
public enum Helper {
  /** {@code void *bpf_map_lookup_elem(map, key)}: a pointer to the value, or NULL. */
  MAP_LOOKUP_ELEM(1),
  /** {@code long bpf_map_update_elem(map, key, value, flags)}: 0 once written. */
  MAP_UPDATE_ELEM(2),
  /** {@code u64 bpf_ktime_get_ns(void)}: the monotonic clock, nanoseconds since boot (suspend not counted). */
  KTIME_GET_NS(5),
  /** {@code long bpf_sk_select_reuseport(ctx, map, key, flags)}: 0 once a socket of the group is chosen. */
  SK_SELECT_REUSEPORT(82);

  private final int id;

  Helper(int id) {
    this.id = id;
  }

  int id() {
    return id;
  }
}
