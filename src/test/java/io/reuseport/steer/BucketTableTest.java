package io.reuseport.steer;

import org.junit.jupiter.api.Test;

import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class BucketTableTest {

  @Test
  void everyHealthyInstanceGetsAnEvenShare() {
    int[] table = BucketTable.assign(new boolean[] {true, true, true, true});
    for (int i = 0; i < 4; i++) {
      assertThat(BucketTable.share(table, i)).isEqualTo(0.25);
    }
  }

  @Test
  void anInstanceOutLosesAllItsBucketsAndOnlyThoseMove() {
    int[] all = BucketTable.assign(new boolean[] {true, true, true, true});
    int[] without2 = BucketTable.assign(new boolean[] {true, true, false, true});
    assertThat(BucketTable.share(without2, 2)).isZero();
    for (int b = 0; b < all.length; b++) {
      if (all[b] != 2) {
        assertThat(without2[b]).as("bucket %d of a healthy instance", b).isEqualTo(all[b]);
      }
    }
    // its 64 buckets spread 22/21/21 over the three others
    assertThat(IntStream.of(0, 1, 3).mapToDouble(i -> BucketTable.share(without2, i)))
        .allMatch(s -> s * 256 >= 64 + 21 && s * 256 <= 64 + 22);
  }

  @Test
  void anInstanceBackGetsExactlyItsOwnBucketsBack() {
    boolean[] healthy = {true, true, true, true};
    int[] before = BucketTable.assign(healthy);
    BucketTable.assign(new boolean[] {true, false, true, true});
    assertThat(BucketTable.assign(healthy)).isEqualTo(before);
  }

  @Test
  void nobodyHealthySendsEveryBucketHomeNeverToAStranger() {
    assertThat(BucketTable.assign(new boolean[] {false, false}))
        .isEqualTo(BucketTable.assign(new boolean[] {true, true}));
  }

  @Test
  void whileNoInstanceIsHealthyEveryFlowKeepsItsInstance() {
    assertThat(BucketTable.flowHealth(new boolean[] {false, false, false})).containsOnly(true);
    assertThat(BucketTable.flowHealth(new boolean[] {false, true, false})).containsExactly(false, true, false);
  }
}
