;; The Internet checksum's bulk loop in WebAssembly SIMD, over packet memory that is a shared
;; WebAssembly.Memory (see simd-sum.ts). Source of the bytes embedded in simd-sum.ts:
;;   wat2wasm --enable-threads ts/wire/simd-sum.wat -o simd-sum.wasm
;; test/wire/simd-sum.test.ts checks that the embedded bytes are this file's.
;;
;; sum(p, n): n (a multiple of 16) bytes from address p summed as little-endian 16-bit words, each
;; 32-bit lane folded to 17 bits before the lanes are added, so the result is below 2^19. Each
;; step adds at most 2 * 0xffff to a 32-bit lane, so n up to 2^20 bytes cannot overflow one.
(module
  (import "m" "mem" (memory 1 65536 shared))
  (func (export "sum") (param $p i32) (param $n i32) (result i32)
    (local $acc v128) (local $acc2 v128) (local $end i32)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    ;; 32 bytes per step into two accumulators, so the two adds do not wait on each other.
    (block $done
      (loop $step
        (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 32)) (local.get $end)))
        (local.set $acc (i32x4.add (local.get $acc)
          (i32x4.extadd_pairwise_i16x8_u (v128.load (local.get $p)))))
        (local.set $acc2 (i32x4.add (local.get $acc2)
          (i32x4.extadd_pairwise_i16x8_u (v128.load offset=16 (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (br $step)))
    (if (i32.le_u (i32.add (local.get $p) (i32.const 16)) (local.get $end))
      (then
        (local.set $acc (i32x4.add (local.get $acc)
          (i32x4.extadd_pairwise_i16x8_u (v128.load (local.get $p)))))))
    ;; End-around carry per lane, then the four lanes.
    (local.set $acc (i32x4.add
      (v128.and (local.get $acc) (v128.const i32x4 0xffff 0xffff 0xffff 0xffff))
      (i32x4.shr_u (local.get $acc) (i32.const 16))))
    (local.set $acc2 (i32x4.add
      (v128.and (local.get $acc2) (v128.const i32x4 0xffff 0xffff 0xffff 0xffff))
      (i32x4.shr_u (local.get $acc2) (i32.const 16))))
    (local.set $acc (i32x4.add (local.get $acc) (local.get $acc2)))
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
      (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc))))))
