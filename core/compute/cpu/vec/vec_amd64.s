#include "textflag.h"

// WG_INPUT_ARGS: the input transforms' arguments: DI the first matrix's
// row, R8 the stride between matrices in bytes (R9 four of them), R10-R13
// the four input rows.
#define WG_INPUT_ARGS \
	MOVQ dst+0(FP), DI; MOVQ stride+8(FP), R8; SHLQ $2, R8; LEAQ (R8*4), R9; \
	MOVQ src+16(FP), R10; MOVQ rowStride+24(FP), AX; SHLQ $2, AX; \
	LEAQ (R10)(AX*1), R11; LEAQ (R11)(AX*1), R12; LEAQ (R12)(AX*1), R13

// func axpyAVX2(a float32, x, y *float32, n int)
TEXT ·axpyAVX2(SB), NOSPLIT, $0-32
	VBROADCASTSS a+0(FP), Y0
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	MOVQ n+24(FP), CX
axpy8:
	CMPQ CX, $8
	JL axpy1
	VMOVUPS (SI), Y1
	VFMADD213PS (DI), Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP axpy8
axpy1:
	TESTQ CX, CX
	JZ axpydone
	VMOVSS (SI), X1
	VFMADD213SS (DI), X0, X1
	VMOVSS X1, (DI)
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JMP axpy1
axpydone:
	VZEROUPPER
	RET

// func scaleShiftClampAVX2(dst, src *float32, n int, s, t, lo, hi float32)
TEXT ·scaleShiftClampAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS s+24(FP), Y0
	VBROADCASTSS t+28(FP), Y1
	VBROADCASTSS lo+32(FP), Y2
	VBROADCASTSS hi+36(FP), Y3
ssc8:
	CMPQ CX, $8
	JL ssc1
	VMOVUPS (SI), Y4
	VFMADD213PS Y1, Y0, Y4
	VMAXPS Y2, Y4, Y4
	VMINPS Y3, Y4, Y4
	VMOVUPS Y4, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP ssc8
ssc1:
	TESTQ CX, CX
	JZ sscdone
	VMOVSS (SI), X4
	VFMADD213SS X1, X0, X4
	VMAXSS X2, X4, X4
	VMINSS X3, X4, X4
	VMOVSS X4, (DI)
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JMP ssc1
sscdone:
	VZEROUPPER
	RET

// func addAVX2(dst, a, b *float32, n int)
TEXT ·addAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
add8:
	CMPQ CX, $8
	JL add1
	VMOVUPS (SI), Y0
	VADDPS (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JMP add8
add1:
	TESTQ CX, CX
	JZ adddone
	VMOVSS (SI), X0
	VADDSS (DX), X0, X0
	VMOVSS X0, (DI)
	ADDQ $4, SI
	ADDQ $4, DX
	ADDQ $4, DI
	DECQ CX
	JMP add1
adddone:
	VZEROUPPER
	RET

// func deinterleaveAVX2(even, odd, src *float32, pairs int)
TEXT ·deinterleaveAVX2(SB), NOSPLIT, $0-32
	MOVQ even+0(FP), DI
	MOVQ odd+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ pairs+24(FP), CX
di8:
	CMPQ CX, $8
	JL di1
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VPERMPD $0xD8, Y2, Y2
	VPERMPD $0xD8, Y3, Y3
	VMOVUPS Y2, (DI)
	VMOVUPS Y3, (DX)
	ADDQ $64, SI
	ADDQ $32, DI
	ADDQ $32, DX
	SUBQ $8, CX
	JMP di8
di1:
	TESTQ CX, CX
	JZ didone
	MOVL (SI), AX
	MOVL AX, (DI)
	MOVL 4(SI), AX
	MOVL AX, (DX)
	ADDQ $8, SI
	ADDQ $4, DI
	ADDQ $4, DX
	DECQ CX
	JMP di1
didone:
	VZEROUPPER
	RET

// func sqDistAVX2(a, b *float32, n int) float32
TEXT ·sqDistAVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
sd16:
	CMPQ CX, $16
	JL sd8
	VMOVUPS (SI), Y2
	VMOVUPS 32(SI), Y3
	VSUBPS (DI), Y2, Y2
	VSUBPS 32(DI), Y3, Y3
	VFMADD231PS Y2, Y2, Y0
	VFMADD231PS Y3, Y3, Y1
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP sd16
sd8:
	CMPQ CX, $8
	JL sdreduce
	VMOVUPS (SI), Y2
	VSUBPS (DI), Y2, Y2
	VFMADD231PS Y2, Y2, Y0
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
sdreduce:
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
sd1:
	TESTQ CX, CX
	JZ sddone
	VMOVSS (SI), X2
	VSUBSS (DI), X2, X2
	VFMADD231SS X2, X2, X0
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JMP sd1
sddone:
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func sqDistAVX512(a, b *float32, n int) float32
// Four zmm sums over 64 values a step, then one over 16, then the AVX2
// tail (8, then 1) on the reduced sum.
TEXT ·sqDistAVX512(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
sz64:
	CMPQ CX, $64
	JL sz16
	VMOVUPS (SI), Z4
	VMOVUPS 64(SI), Z5
	VMOVUPS 128(SI), Z6
	VMOVUPS 192(SI), Z7
	VSUBPS (DI), Z4, Z4
	VSUBPS 64(DI), Z5, Z5
	VSUBPS 128(DI), Z6, Z6
	VSUBPS 192(DI), Z7, Z7
	VFMADD231PS Z4, Z4, Z0
	VFMADD231PS Z5, Z5, Z1
	VFMADD231PS Z6, Z6, Z2
	VFMADD231PS Z7, Z7, Z3
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $64, CX
	JMP sz64
sz16:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
sz16loop:
	CMPQ CX, $16
	JL sz8
	VMOVUPS (SI), Z4
	VSUBPS (DI), Z4, Z4
	VFMADD231PS Z4, Z4, Z0
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP sz16loop
sz8:
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS Y1, Y0, Y0
	CMPQ CX, $8
	JL szreduce
	VMOVUPS (SI), Y2
	VSUBPS (DI), Y2, Y2
	VFMADD231PS Y2, Y2, Y0
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
szreduce:
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
sz1:
	TESTQ CX, CX
	JZ szdone
	VMOVSS (SI), X2
	VSUBSS (DI), X2, X2
	VFMADD231SS X2, X2, X0
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JMP sz1
szdone:
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func axpyAVX512(a float32, x, y *float32, n int)
TEXT ·axpyAVX512(SB), NOSPLIT, $0-32
	VBROADCASTSS a+0(FP), Z0
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	MOVQ n+24(FP), CX
az32:
	CMPQ CX, $32
	JL az16
	VMOVUPS (SI), Z1
	VMOVUPS 64(SI), Z2
	VFMADD213PS (DI), Z0, Z1
	VFMADD213PS 64(DI), Z0, Z2
	VMOVUPS Z1, (DI)
	VMOVUPS Z2, 64(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP az32
az16:
	CMPQ CX, $16
	JL az8
	VMOVUPS (SI), Z1
	VFMADD213PS (DI), Z0, Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
az8:
	CMPQ CX, $8
	JL az1
	VMOVUPS (SI), Y1
	VFMADD213PS (DI), Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
az1:
	TESTQ CX, CX
	JZ azdone
	VMOVSS (SI), X1
	VFMADD213SS (DI), X0, X1
	VMOVSS X1, (DI)
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JMP az1
azdone:
	VZEROUPPER
	RET

// func sqDistBlocksAVX2(blocks, q, out *float32, nb int)
// The same with ymm registers: a block's 16 rows are two halves of 8.
TEXT ·sqDistBlocksAVX2(SB), NOSPLIT, $0-32
	MOVQ blocks+0(FP), SI
	MOVQ q+8(FP), DX
	MOVQ out+16(FP), DI
	MOVQ nb+24(FP), CX
sdb2:
	TESTQ CX, CX
	JZ sdb2done
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VBROADCASTSS 0(DX), Y15
	VSUBPS 0(SI), Y15, Y0
	VSUBPS 32(SI), Y15, Y1
	VFMADD231PS Y0, Y0, Y8
	VFMADD231PS Y1, Y1, Y9
	VBROADCASTSS 4(DX), Y15
	VSUBPS 64(SI), Y15, Y0
	VSUBPS 96(SI), Y15, Y1
	VFMADD231PS Y0, Y0, Y10
	VFMADD231PS Y1, Y1, Y11
	VBROADCASTSS 8(DX), Y15
	VSUBPS 128(SI), Y15, Y0
	VSUBPS 160(SI), Y15, Y1
	VFMADD231PS Y0, Y0, Y8
	VFMADD231PS Y1, Y1, Y9
	VBROADCASTSS 12(DX), Y15
	VSUBPS 192(SI), Y15, Y0
	VSUBPS 224(SI), Y15, Y1
	VFMADD231PS Y0, Y0, Y10
	VFMADD231PS Y1, Y1, Y11
	VBROADCASTSS 16(DX), Y15
	VSUBPS 256(SI), Y15, Y0
	VSUBPS 288(SI), Y15, Y1
	VFMADD231PS Y0, Y0, Y8
	VFMADD231PS Y1, Y1, Y9
	VBROADCASTSS 20(DX), Y15
	VSUBPS 320(SI), Y15, Y0
	VSUBPS 352(SI), Y15, Y1
	VFMADD231PS Y0, Y0, Y10
	VFMADD231PS Y1, Y1, Y11
	VBROADCASTSS 24(DX), Y15
	VSUBPS 384(SI), Y15, Y0
	VSUBPS 416(SI), Y15, Y1
	VFMADD231PS Y0, Y0, Y8
	VFMADD231PS Y1, Y1, Y9
	VBROADCASTSS 28(DX), Y15
	VSUBPS 448(SI), Y15, Y0
	VSUBPS 480(SI), Y15, Y1
	VFMADD231PS Y0, Y0, Y10
	VFMADD231PS Y1, Y1, Y11
	VBROADCASTSS 32(DX), Y15
	VSUBPS 512(SI), Y15, Y0
	VSUBPS 544(SI), Y15, Y1
	VFMADD231PS Y0, Y0, Y8
	VFMADD231PS Y1, Y1, Y9
	VBROADCASTSS 36(DX), Y15
	VSUBPS 576(SI), Y15, Y0
	VSUBPS 608(SI), Y15, Y1
	VFMADD231PS Y0, Y0, Y10
	VFMADD231PS Y1, Y1, Y11
	VBROADCASTSS 40(DX), Y15
	VSUBPS 640(SI), Y15, Y0
	VSUBPS 672(SI), Y15, Y1
	VFMADD231PS Y0, Y0, Y8
	VFMADD231PS Y1, Y1, Y9
	VBROADCASTSS 44(DX), Y15
	VSUBPS 704(SI), Y15, Y0
	VSUBPS 736(SI), Y15, Y1
	VFMADD231PS Y0, Y0, Y10
	VFMADD231PS Y1, Y1, Y11
	VBROADCASTSS 48(DX), Y15
	VSUBPS 768(SI), Y15, Y0
	VSUBPS 800(SI), Y15, Y1
	VFMADD231PS Y0, Y0, Y8
	VFMADD231PS Y1, Y1, Y9
	VBROADCASTSS 52(DX), Y15
	VSUBPS 832(SI), Y15, Y0
	VSUBPS 864(SI), Y15, Y1
	VFMADD231PS Y0, Y0, Y10
	VFMADD231PS Y1, Y1, Y11
	VBROADCASTSS 56(DX), Y15
	VSUBPS 896(SI), Y15, Y0
	VSUBPS 928(SI), Y15, Y1
	VFMADD231PS Y0, Y0, Y8
	VFMADD231PS Y1, Y1, Y9
	VBROADCASTSS 60(DX), Y15
	VSUBPS 960(SI), Y15, Y0
	VSUBPS 992(SI), Y15, Y1
	VFMADD231PS Y0, Y0, Y10
	VFMADD231PS Y1, Y1, Y11
	VADDPS Y10, Y8, Y8
	VADDPS Y11, Y9, Y9
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, 32(DI)
	ADDQ $1024, SI
	ADDQ $64, DI
	DECQ CX
	JMP sdb2
sdb2done:
	VZEROUPPER
	RET

// func sqDistBlocksBelowAVX512(blocks, q, thr, out *float32, masks *uint16, nb int, scale float32)
// sqDistBlocksAVX512, then each block's sums times scale compared with
// its 16 thresholds (less than, ordered) into a 16-bit mask.
TEXT ·sqDistBlocksBelowAVX512(SB), NOSPLIT, $0-52
	MOVQ blocks+0(FP), SI
	MOVQ q+8(FP), DX
	MOVQ thr+16(FP), R8
	MOVQ out+24(FP), DI
	MOVQ masks+32(FP), R9
	MOVQ nb+40(FP), CX
	VBROADCASTSS scale+48(FP), Z12
	VBROADCASTSS 0(DX), Z16
	VBROADCASTSS 4(DX), Z17
	VBROADCASTSS 8(DX), Z18
	VBROADCASTSS 12(DX), Z19
	VBROADCASTSS 16(DX), Z20
	VBROADCASTSS 20(DX), Z21
	VBROADCASTSS 24(DX), Z22
	VBROADCASTSS 28(DX), Z23
	VBROADCASTSS 32(DX), Z24
	VBROADCASTSS 36(DX), Z25
	VBROADCASTSS 40(DX), Z26
	VBROADCASTSS 44(DX), Z27
	VBROADCASTSS 48(DX), Z28
	VBROADCASTSS 52(DX), Z29
	VBROADCASTSS 56(DX), Z30
	VBROADCASTSS 60(DX), Z31
sdbb512:
	TESTQ CX, CX
	JZ sdbb512done
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VSUBPS 0(SI), Z16, Z0
	VFMADD231PS Z0, Z0, Z8
	VSUBPS 64(SI), Z17, Z1
	VFMADD231PS Z1, Z1, Z9
	VSUBPS 128(SI), Z18, Z2
	VFMADD231PS Z2, Z2, Z10
	VSUBPS 192(SI), Z19, Z3
	VFMADD231PS Z3, Z3, Z11
	VSUBPS 256(SI), Z20, Z0
	VFMADD231PS Z0, Z0, Z8
	VSUBPS 320(SI), Z21, Z1
	VFMADD231PS Z1, Z1, Z9
	VSUBPS 384(SI), Z22, Z2
	VFMADD231PS Z2, Z2, Z10
	VSUBPS 448(SI), Z23, Z3
	VFMADD231PS Z3, Z3, Z11
	VSUBPS 512(SI), Z24, Z0
	VFMADD231PS Z0, Z0, Z8
	VSUBPS 576(SI), Z25, Z1
	VFMADD231PS Z1, Z1, Z9
	VSUBPS 640(SI), Z26, Z2
	VFMADD231PS Z2, Z2, Z10
	VSUBPS 704(SI), Z27, Z3
	VFMADD231PS Z3, Z3, Z11
	VSUBPS 768(SI), Z28, Z0
	VFMADD231PS Z0, Z0, Z8
	VSUBPS 832(SI), Z29, Z1
	VFMADD231PS Z1, Z1, Z9
	VSUBPS 896(SI), Z30, Z2
	VFMADD231PS Z2, Z2, Z10
	VSUBPS 960(SI), Z31, Z3
	VFMADD231PS Z3, Z3, Z11
	VADDPS Z9, Z8, Z8
	VADDPS Z11, Z10, Z10
	VADDPS Z10, Z8, Z8
	VMOVUPS Z8, (DI)
	VMULPS Z12, Z8, Z8
	VCMPPS $0x11, (R8), Z8, K1
	KMOVW K1, AX
	MOVW AX, (R9)
	ADDQ $1024, SI
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $2, R9
	DECQ CX
	JMP sdbb512
sdbb512done:
	VZEROUPPER
	RET

// func halfToFloatAVX512(dst *float32, src *uint16, n int): n a multiple of 8.
TEXT ·halfToFloatAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
htf16:
	CMPQ CX, $16
	JL htf8
	VCVTPH2PS (SI), Z0
	VMOVUPS Z0, (DI)
	ADDQ $32, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP htf16
htf8:
	TESTQ CX, CX
	JZ htfdone
	VCVTPH2PS (SI), Y0
	VMOVUPS Y0, (DI)
htfdone:
	VZEROUPPER
	RET

// func halfToFloatF16C(dst *float32, src *uint16, n int): n a multiple of 8.
TEXT ·halfToFloatF16C(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
hfc8:
	CMPQ CX, $8
	JL hfcdone
	VCVTPH2PS (SI), Y0
	VMOVUPS Y0, (DI)
	ADDQ $16, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP hfc8
hfcdone:
	VZEROUPPER
	RET

// func maxAVX2(dst, a, b *float32, n int)
// dst = b where b > a or b is NaN, else a: VMAXPS with b first takes b
// only where b > a, then the NaNs of b are blended in.
TEXT ·maxAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
max8:
	CMPQ CX, $8
	JL max1
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y1
	VMAXPS Y0, Y1, Y2
	VCMPPS $3, Y1, Y1, Y3
	VBLENDVPS Y3, Y1, Y2, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JMP max8
max1:
	TESTQ CX, CX
	JZ maxdone
	VMOVSS (SI), X0
	VMOVSS (DX), X1
	VMAXSS X0, X1, X2
	VCMPSS $3, X1, X1, X3
	VBLENDVPS X3, X1, X2, X2
	VMOVSS X2, (DI)
	ADDQ $4, SI
	ADDQ $4, DX
	ADDQ $4, DI
	DECQ CX
	JMP max1
maxdone:
	VZEROUPPER
	RET

// func taps9RowsAVX512(dst, base *float32, offs *[9]int, w *float32, rows, cols, dstStride, baseStride int, t, lo, hi float32)
// Per row r < rows and column x < cols: dst[r*dstStride+x] =
// min(max(sum_k w[k]*base[offs[k]+r*baseStride+x] + t, lo), hi), the taps
// in taps9AVX512's order and the clamp as scaleShiftClampAVX2's; the last
// cols%16 columns of a row through a mask.
TEXT ·taps9RowsAVX512(SB), NOSPLIT, $0-76
	MOVQ dst+0(FP), DI
	MOVQ base+8(FP), SI
	MOVQ offs+16(FP), AX
	MOVQ w+24(FP), DX
	MOVQ 0(AX), R8
	SHLQ $2, R8
	MOVQ 8(AX), R9
	SHLQ $2, R9
	MOVQ 16(AX), R10
	SHLQ $2, R10
	MOVQ 24(AX), R11
	SHLQ $2, R11
	MOVQ 32(AX), R12
	SHLQ $2, R12
	MOVQ 40(AX), R13
	SHLQ $2, R13
	MOVQ 48(AX), R14
	SHLQ $2, R14
	MOVQ 56(AX), R15
	SHLQ $2, R15
	MOVQ 64(AX), BX
	SHLQ $2, BX
	VBROADCASTSS 0(DX), Z16
	VBROADCASTSS 4(DX), Z17
	VBROADCASTSS 8(DX), Z18
	VBROADCASTSS 12(DX), Z19
	VBROADCASTSS 16(DX), Z20
	VBROADCASTSS 20(DX), Z21
	VBROADCASTSS 24(DX), Z22
	VBROADCASTSS 28(DX), Z23
	VBROADCASTSS 32(DX), Z24
	VBROADCASTSS t+64(FP), Z25
	VBROADCASTSS lo+68(FP), Z26
	VBROADCASTSS hi+72(FP), Z27
	// K1: the tail's columns.
	MOVQ cols+40(FP), CX
	ANDQ $15, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	// AX, DX: from a row's last whole vector to the next row's start.
	MOVQ cols+40(FP), CX
	ANDQ $-16, CX
	SHLQ $2, CX
	MOVQ dstStride+48(FP), AX
	SHLQ $2, AX
	SUBQ CX, AX
	MOVQ baseStride+56(FP), DX
	SHLQ $2, DX
	SUBQ CX, DX
	CMPQ rows+32(FP), $0
	JLE t9rdone
t9rrow:
	MOVQ cols+40(FP), CX
t9rvec:
	CMPQ CX, $16
	JL t9rtail
	VMULPS (SI)(R8*1), Z16, Z0
	VFMADD231PS (SI)(R9*1), Z17, Z0
	VFMADD231PS (SI)(R10*1), Z18, Z0
	VFMADD231PS (SI)(R11*1), Z19, Z0
	VFMADD231PS (SI)(R12*1), Z20, Z0
	VFMADD231PS (SI)(R13*1), Z21, Z0
	VFMADD231PS (SI)(R14*1), Z22, Z0
	VFMADD231PS (SI)(R15*1), Z23, Z0
	VFMADD231PS (SI)(BX*1), Z24, Z0
	VADDPS Z25, Z0, Z0
	VMAXPS Z26, Z0, Z0
	VMINPS Z27, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP t9rvec
t9rtail:
	TESTQ CX, CX
	JZ t9rnext
	VMOVUPS.Z (SI)(R8*1), K1, Z1
	VMULPS Z1, Z16, Z0
	VMOVUPS.Z (SI)(R9*1), K1, Z1
	VFMADD231PS Z1, Z17, Z0
	VMOVUPS.Z (SI)(R10*1), K1, Z1
	VFMADD231PS Z1, Z18, Z0
	VMOVUPS.Z (SI)(R11*1), K1, Z1
	VFMADD231PS Z1, Z19, Z0
	VMOVUPS.Z (SI)(R12*1), K1, Z1
	VFMADD231PS Z1, Z20, Z0
	VMOVUPS.Z (SI)(R13*1), K1, Z1
	VFMADD231PS Z1, Z21, Z0
	VMOVUPS.Z (SI)(R14*1), K1, Z1
	VFMADD231PS Z1, Z22, Z0
	VMOVUPS.Z (SI)(R15*1), K1, Z1
	VFMADD231PS Z1, Z23, Z0
	VMOVUPS.Z (SI)(BX*1), K1, Z1
	VFMADD231PS Z1, Z24, Z0
	VADDPS Z25, Z0, Z0
	VMAXPS Z26, Z0, Z0
	VMINPS Z27, Z0, Z0
	VMOVUPS Z0, K1, (DI)
t9rnext:
	ADDQ AX, DI
	ADDQ DX, SI
	DECQ rows+32(FP)
	JNZ t9rrow
t9rdone:
	VZEROUPPER
	RET

// func copyRowsAVX512(dst, src *float32, rows, cols, dstStride, srcStride int)
// Copies rows x cols, 16 values a move, the last cols%16 of a row through
// a mask.
TEXT ·copyRowsAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ cols+24(FP), R9
	MOVQ dstStride+32(FP), R10
	SHLQ $2, R10
	MOVQ srcStride+40(FP), R11
	SHLQ $2, R11
	MOVQ R9, CX
	ANDQ $15, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	TESTQ R8, R8
	JLE crdone
crrow:
	MOVQ DI, DX
	MOVQ SI, BX
	MOVQ R9, CX
crvec:
	CMPQ CX, $16
	JL crtail
	VMOVUPS (BX), Z0
	VMOVUPS Z0, (DX)
	ADDQ $64, BX
	ADDQ $64, DX
	SUBQ $16, CX
	JMP crvec
crtail:
	TESTQ CX, CX
	JZ crnext
	VMOVUPS.Z (BX), K1, Z0
	VMOVUPS Z0, K1, (DX)
crnext:
	ADDQ R10, DI
	ADDQ R11, SI
	DECQ R8
	JNZ crrow
crdone:
	VZEROUPPER
	RET

// func belowAVX512(dst *int32, x *float32, n int, limit float32) int
// Writes the indices i < n (n a multiple of 16) with x[i] < limit to dst,
// in order, and returns how many: a compare a vector, and a compress of
// the index vector where the mask is not empty (most are, in a search's
// bounds). The compress goes to a register, which is stored whole: the
// form that compresses straight into memory is slow on AMD's Zen 4 (16,385
// bounds with 12% under the limit: 19.5-20.9 us, 3x Go's loop, against
// 1.54-1.58 us so; BenchmarkBelow). The whole store writes past the
// indices found so far but never past dst[n-1]: before the chunk at i, at
// most i were found.
TEXT ·belowAVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS limit+24(FP), Z1
	MOVQ DI, R8
	VMOVDQU32 iota16<>(SB), Z2
	MOVL $16, AX
	VPBROADCASTD AX, Z3
bwloop:
	TESTQ CX, CX
	JZ bwdone
	VMOVUPS (SI), Z0
	VCMPPS $1, Z1, Z0, K1
	KORTESTW K1, K1
	JZ bwnext
	VPCOMPRESSD.Z Z2, K1, Z4
	VMOVDQU32 Z4, (DI)
	KMOVW K1, AX
	POPCNTL AX, AX
	LEAQ (DI)(AX*4), DI
bwnext:
	VPADDD Z3, Z2, Z2
	ADDQ $64, SI
	SUBQ $16, CX
	JMP bwloop
bwdone:
	SUBQ R8, DI
	SHRQ $2, DI
	MOVQ DI, ret+32(FP)
	VZEROUPPER
	RET

DATA iota16<>+0(SB)/4, $0
DATA iota16<>+4(SB)/4, $1
DATA iota16<>+8(SB)/4, $2
DATA iota16<>+12(SB)/4, $3
DATA iota16<>+16(SB)/4, $4
DATA iota16<>+20(SB)/4, $5
DATA iota16<>+24(SB)/4, $6
DATA iota16<>+28(SB)/4, $7
DATA iota16<>+32(SB)/4, $8
DATA iota16<>+36(SB)/4, $9
DATA iota16<>+40(SB)/4, $10
DATA iota16<>+44(SB)/4, $11
DATA iota16<>+48(SB)/4, $12
DATA iota16<>+52(SB)/4, $13
DATA iota16<>+56(SB)/4, $14
DATA iota16<>+60(SB)/4, $15
GLOBL iota16<>(SB), RODATA, $64

// func gather16AVX512(dst, src *float32, offs *int, n, at int)
// dst[16i:16i+16] = src[offs[i]+at:][:16] for i < n (n >= 1).
TEXT ·gather16AVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ offs+16(FP), BX
	MOVQ n+24(FP), CX
	MOVQ at+32(FP), DX
	LEAQ (SI)(DX*4), SI
g16loop:
	MOVQ (BX), AX
	VMOVUPS (SI)(AX*4), Z0
	VMOVUPS Z0, (DI)
	ADDQ $8, BX
	ADDQ $64, DI
	DECQ CX
	JNZ g16loop
	VZEROUPPER
	RET

// WG_ROW: one input row's column combinations for 16 blocks. The row's
// columns 0-31 and 2-33 from ptr, split into even and odd columns
// (VPERMI2PS with the index vectors in Z30, Z31), give e0, o0 (c0, c1
// for now), e1 (Z2) and o1 (Z3); then c0-c3 = e0-e1, o0+e1, e1-o0, o0-o1.
#define WG_ROW(ptr, c0, c1, c2, c3) \
	VMOVUPS (ptr), Z0; \
	VMOVUPS 64(ptr), Z1; \
	VMOVAPS Z30, c0; \
	VPERMI2PS Z1, Z0, c0; \
	VMOVAPS Z31, c1; \
	VPERMI2PS Z1, Z0, c1; \
	VMOVUPS 8(ptr), Z0; \
	VMOVUPS 72(ptr), Z1; \
	VMOVAPS Z30, Z2; \
	VPERMI2PS Z1, Z0, Z2; \
	VMOVAPS Z31, Z3; \
	VPERMI2PS Z1, Z0, Z3; \
	VSUBPS Z3, c1, c3; \
	VSUBPS c1, Z2, c2; \
	VADDPS Z2, c1, c1; \
	VSUBPS Z2, c0, c0

// WG_COLUMN: the row combinations of column j's sums (r0-r3, rows 0-3)
// to positions j, 4+j, 8+j, 12+j: (BX), then R9 (4 positions) apart,
// through the mask K1.
#define WG_COLUMN(r0, r1, r2, r3) \
	VSUBPS r2, r0, Z20; \
	VMOVUPS Z20, K1, (BX); \
	VADDPS r2, r1, Z21; \
	VMOVUPS Z21, K1, (BX)(R9*1); \
	VSUBPS r1, r2, Z22; \
	VMOVUPS Z22, K1, (BX)(R9*2); \
	VSUBPS r3, r1, Z23; \
	LEAQ (BX)(R9*2), DX; \
	VMOVUPS Z23, K1, (DX)(R9*1)

// WG_MASK(reg, k): k = the low min(max(reg, 0), 16) bits (clobbers AX,
// CX).
#define WG_MASK(reg, k) \
	MOVQ reg, CX; \
	XORQ AX, AX; \
	CMPQ CX, AX; \
	CMOVQLT AX, CX; \
	MOVQ $16, AX; \
	CMPQ CX, AX; \
	CMOVQGT AX, CX; \
	MOVL $1, AX; \
	SHLL CX, AX; \
	DECL AX; \
	KMOVW AX, k

// func winogradInputAVX512(dst *float32, stride int, src *float32, rowStride, tiles int)
// WinogradInputRow 16 blocks a step: each row's 34 columns give the
// column combinations of 16 blocks (WG_ROW), whose row combinations go
// out through a mask of the blocks left (WG_COLUMN).
TEXT ·winogradInputAVX512(SB), NOSPLIT, $0-40
	WG_INPUT_ARGS
	MOVQ tiles+32(FP), R14
	VMOVDQU32 wgEven<>(SB), Z30
	VMOVDQU32 wgOdd<>(SB), Z31
wiloop:
	TESTQ R14, R14
	JLE widone
	WG_MASK(R14, K1)
	WG_ROW(R10, Z4, Z5, Z6, Z7)
	WG_ROW(R11, Z8, Z9, Z10, Z11)
	WG_ROW(R12, Z12, Z13, Z14, Z15)
	WG_ROW(R13, Z16, Z17, Z18, Z19)
	MOVQ DI, BX
	WG_COLUMN(Z4, Z8, Z12, Z16)
	ADDQ R8, BX
	WG_COLUMN(Z5, Z9, Z13, Z17)
	ADDQ R8, BX
	WG_COLUMN(Z6, Z10, Z14, Z18)
	ADDQ R8, BX
	WG_COLUMN(Z7, Z11, Z15, Z19)
	ADDQ $64, DI
	ADDQ $128, R10
	ADDQ $128, R11
	ADDQ $128, R12
	ADDQ $128, R13
	SUBQ $16, R14
	JMP wiloop
widone:
	VZEROUPPER
	RET

// WG_SUMS: column j's four positions (j, 4+j, 8+j, 12+j from BX, R9
// apart, masked by K1) combined into s0 = m0+m1+m2 and s1 = m1-m2-m3.
#define WG_SUMS(s0, s1) \
	VMOVUPS.Z (BX), K1, Z0; \
	VMOVUPS.Z (BX)(R9*1), K1, Z1; \
	VMOVUPS.Z (BX)(R9*2), K1, Z2; \
	LEAQ (BX)(R9*2), DX; \
	VMOVUPS.Z (DX)(R9*1), K1, Z3; \
	VADDPS Z1, Z0, s0; \
	VADDPS Z2, s0, s0; \
	VSUBPS Z2, Z1, s1; \
	VSUBPS Z3, s1, s1

// WG_STORE: an output row's two halves (y0 the even columns, y1 the odd)
// interleaved into 32 columns at ptr, plus what ptr holds with flag bit
// 1 (R13), clamped to [Z29, Z25], stored through K2 and K3.
#define WG_STORE(y0, y1, ptr, lbl) \
	VMOVAPS Z26, Z16; \
	VPERMI2PS y1, y0, Z16; \
	VMOVAPS Z27, Z17; \
	VPERMI2PS y1, y0, Z17; \
	TESTQ $1, R13; \
	JZ lbl; \
	VMOVUPS.Z (ptr), K2, Z18; \
	VADDPS Z18, Z16, Z16; \
	VMOVUPS.Z 64(ptr), K3, Z19; \
	VADDPS Z19, Z17, Z17; \
lbl: \
	VMAXPS Z16, Z29, Z16; \
	VMINPS Z16, Z25, Z16; \
	VMAXPS Z17, Z29, Z17; \
	VMINPS Z17, Z25, Z17; \
	VMOVUPS Z16, K2, (ptr); \
	VMOVUPS Z17, K3, 64(ptr)

// func winogradOutputAVX512(dst *float32, dstStride, rows, cols int, m *float32, stride, tiles int, bias float32, flags int, lo, hi float32)
// WinogradOutputRow 16 blocks a step: the 16 positions' vectors (masked
// loads past the last block) combine into the blocks' four outputs, and
// each output row's pairs interleave into 32 columns, stored through
// masks of the columns left. Flag bit 1 adds what dst holds. The max and
// min take the value second, so that a NaN passes the clamp, as Go's
// min and max let it.
TEXT ·winogradOutputAVX512(SB), NOSPLIT, $0-80
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R10
	SHLQ $2, R10
	MOVQ rows+16(FP), R11
	MOVQ cols+24(FP), R12
	MOVQ m+32(FP), SI
	MOVQ stride+40(FP), R8
	SHLQ $2, R8
	LEAQ (R8*4), R9
	MOVQ tiles+48(FP), R14
	VBROADCASTSS bias+56(FP), Z28
	MOVQ flags+64(FP), R13
	VBROADCASTSS lo+72(FP), Z29
	VBROADCASTSS hi+76(FP), Z25
	VMOVDQU32 wgLo<>(SB), Z26
	VMOVDQU32 wgHi<>(SB), Z27
woloop:
	TESTQ R14, R14
	JLE wodone
	WG_MASK(R14, K1)
	WG_MASK(R12, K2)
	MOVQ R12, BX
	SUBQ $16, BX
	WG_MASK(BX, K3)
	MOVQ SI, BX
	WG_SUMS(Z4, Z8)
	ADDQ R8, BX
	WG_SUMS(Z5, Z9)
	ADDQ R8, BX
	WG_SUMS(Z6, Z10)
	ADDQ R8, BX
	WG_SUMS(Z7, Z11)
	// y00 = s00+s01+s02, y01 = s01-s02-s03, and the same of the s1s,
	// plus bias.
	VADDPS Z5, Z4, Z12
	VADDPS Z6, Z12, Z12
	VADDPS Z28, Z12, Z12
	VSUBPS Z6, Z5, Z13
	VSUBPS Z7, Z13, Z13
	VADDPS Z28, Z13, Z13
	VADDPS Z9, Z8, Z14
	VADDPS Z10, Z14, Z14
	VADDPS Z28, Z14, Z14
	VSUBPS Z10, Z9, Z15
	VSUBPS Z11, Z15, Z15
	VADDPS Z28, Z15, Z15
	WG_STORE(Z12, Z13, DI, wor0)
	CMPQ R11, $2
	JNE wonext
	LEAQ (DI)(R10*1), DX
	WG_STORE(Z14, Z15, DX, wor1)
wonext:
	ADDQ $64, SI
	ADDQ $128, DI
	SUBQ $32, R12
	SUBQ $16, R14
	JMP woloop
wodone:
	VZEROUPPER
	RET

// WG2_ROW: WG_ROW with AVX2, 8 blocks: the row's columns 0-15 and 2-17
// from ptr, split into even and odd columns (VSHUFPS, then VPERMPD to
// undo the lanes' order), give e0, o0 (c0, c1 for now), e1 (Y1) and o1
// (Y0); then c0-c3 = e0-e1, o0+e1, e1-o0, o0-o1.
#define WG2_ROW(ptr, c0, c1, c2, c3) \
	VMOVUPS (ptr), Y0; \
	VSHUFPS $0x88, 32(ptr), Y0, c0; \
	VPERMPD $0xD8, c0, c0; \
	VSHUFPS $0xDD, 32(ptr), Y0, c1; \
	VPERMPD $0xD8, c1, c1; \
	VMOVUPS 8(ptr), Y0; \
	VSHUFPS $0x88, 40(ptr), Y0, Y1; \
	VPERMPD $0xD8, Y1, Y1; \
	VSHUFPS $0xDD, 40(ptr), Y0, Y0; \
	VPERMPD $0xD8, Y0, Y0; \
	VSUBPS Y0, c1, c3; \
	VSUBPS c1, Y1, c2; \
	VADDPS Y1, c1, c1; \
	VSUBPS Y1, c0, c0

// WG2_FOUR: four positions' vectors, op(b_j, a_j) = a_j - b_j or
// a_j + b_j for j = 0..3, stored R8 apart from BX.
#define WG2_FOUR(op, b0, a0, b1, a1, b2, a2, b3, a3) \
	op b0, a0, Y0; \
	VMOVUPS Y0, (BX); \
	op b1, a1, Y0; \
	VMOVUPS Y0, (BX)(R8*1); \
	op b2, a2, Y0; \
	VMOVUPS Y0, (BX)(R8*2); \
	LEAQ (BX)(R8*2), DX; \
	op b3, a3, Y0; \
	VMOVUPS Y0, (DX)(R8*1)

// func winogradInputAVX2(dst *float32, stride int, src *float32, rowStride, groups int)
// WinogradInputRow for 8*groups blocks, 8 a step. Sixteen registers hold
// rows 1 and 2's sums and one more row's, so row 0's combinations go out
// before row 3's sums take their place.
TEXT ·winogradInputAVX2(SB), NOSPLIT, $0-40
	WG_INPUT_ARGS
	MOVQ groups+32(FP), R14
	TESTQ R14, R14
	JLE w2idone
w2iloop:
	WG2_ROW(R11, Y4, Y5, Y6, Y7)
	WG2_ROW(R12, Y8, Y9, Y10, Y11)
	WG2_ROW(R10, Y12, Y13, Y14, Y15)
	// Positions j: row 0 - row 2; 4+j: row 1 + row 2; 8+j: row 2 - row 1.
	MOVQ DI, BX
	WG2_FOUR(VSUBPS, Y8, Y12, Y9, Y13, Y10, Y14, Y11, Y15)
	ADDQ R9, BX
	WG2_FOUR(VADDPS, Y8, Y4, Y9, Y5, Y10, Y6, Y11, Y7)
	ADDQ R9, BX
	WG2_FOUR(VSUBPS, Y4, Y8, Y5, Y9, Y6, Y10, Y7, Y11)
	// Positions 12+j: row 1 - row 3.
	WG2_ROW(R13, Y12, Y13, Y14, Y15)
	ADDQ R9, BX
	WG2_FOUR(VSUBPS, Y12, Y4, Y13, Y5, Y14, Y6, Y15, Y7)
	ADDQ $32, DI
	ADDQ $64, R10
	ADDQ $64, R11
	ADDQ $64, R12
	ADDQ $64, R13
	DECQ R14
	JNZ w2iloop
w2idone:
	VZEROUPPER
	RET

// WG2_SUMS: WG_SUMS with AVX2, 8 blocks, no mask.
#define WG2_SUMS(s0, s1) \
	VMOVUPS (BX), Y0; \
	VMOVUPS (BX)(R9*1), Y1; \
	VMOVUPS (BX)(R9*2), Y2; \
	LEAQ (BX)(R9*2), DX; \
	VMOVUPS (DX)(R9*1), Y3; \
	VADDPS Y1, Y0, s0; \
	VADDPS Y2, s0, s0; \
	VSUBPS Y2, Y1, s1; \
	VSUBPS Y3, s1, s1

// WG2_STORE: an output row's halves (y0 even columns, y1 odd) interleaved
// into 16 columns at ptr (VUNPCKLPS/HPS, then VPERM2F128 to put the
// lanes in order), plus what ptr holds with flag bit 1 (R13), clamped
// to [lo, hi] (memory operands).
#define WG2_STORE(y0, y1, ptr, lbl, lo, hi) \
	VUNPCKLPS y1, y0, Y0; \
	VUNPCKHPS y1, y0, Y1; \
	VPERM2F128 $0x20, Y1, Y0, Y2; \
	VPERM2F128 $0x31, Y1, Y0, Y3; \
	TESTQ $1, R13; \
	JZ lbl; \
	VADDPS (ptr), Y2, Y2; \
	VADDPS 32(ptr), Y3, Y3; \
lbl: \
	VBROADCASTSS lo, Y0; \
	VBROADCASTSS hi, Y1; \
	VMAXPS Y2, Y0, Y2; \
	VMINPS Y2, Y1, Y2; \
	VMAXPS Y3, Y0, Y3; \
	VMINPS Y3, Y1, Y3; \
	VMOVUPS Y2, (ptr); \
	VMOVUPS Y3, 32(ptr)

// func winogradOutputAVX2(dst *float32, dstStride, rows int, m *float32, stride, groups int, bias float32, flags int, lo, hi float32)
// WinogradOutputRow for 8*groups blocks (16*groups columns), 8 a step.
TEXT ·winogradOutputAVX2(SB), NOSPLIT, $0-72
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R10
	SHLQ $2, R10
	MOVQ rows+16(FP), R11
	MOVQ m+24(FP), SI
	MOVQ stride+32(FP), R8
	SHLQ $2, R8
	LEAQ (R8*4), R9
	MOVQ groups+40(FP), R14
	MOVQ flags+56(FP), R13
	TESTQ R14, R14
	JLE w2odone
w2oloop:
	MOVQ SI, BX
	WG2_SUMS(Y4, Y8)
	ADDQ R8, BX
	WG2_SUMS(Y5, Y9)
	ADDQ R8, BX
	WG2_SUMS(Y6, Y10)
	ADDQ R8, BX
	WG2_SUMS(Y7, Y11)
	VBROADCASTSS bias+48(FP), Y0
	VADDPS Y5, Y4, Y12
	VADDPS Y6, Y12, Y12
	VADDPS Y0, Y12, Y12
	VSUBPS Y6, Y5, Y13
	VSUBPS Y7, Y13, Y13
	VADDPS Y0, Y13, Y13
	VADDPS Y9, Y8, Y14
	VADDPS Y10, Y14, Y14
	VADDPS Y0, Y14, Y14
	VSUBPS Y10, Y9, Y15
	VSUBPS Y11, Y15, Y15
	VADDPS Y0, Y15, Y15
	WG2_STORE(Y12, Y13, DI, w2or0, lo+64(FP), hi+68(FP))
	CMPQ R11, $2
	JNE w2onext
	LEAQ (DI)(R10*1), DX
	WG2_STORE(Y14, Y15, DX, w2or1, lo+64(FP), hi+68(FP))
w2onext:
	ADDQ $32, SI
	ADDQ $64, DI
	DECQ R14
	JNZ w2oloop
w2odone:
	VZEROUPPER
	RET

DATA wgEven<>+0(SB)/4, $0
DATA wgEven<>+4(SB)/4, $2
DATA wgEven<>+8(SB)/4, $4
DATA wgEven<>+12(SB)/4, $6
DATA wgEven<>+16(SB)/4, $8
DATA wgEven<>+20(SB)/4, $10
DATA wgEven<>+24(SB)/4, $12
DATA wgEven<>+28(SB)/4, $14
DATA wgEven<>+32(SB)/4, $16
DATA wgEven<>+36(SB)/4, $18
DATA wgEven<>+40(SB)/4, $20
DATA wgEven<>+44(SB)/4, $22
DATA wgEven<>+48(SB)/4, $24
DATA wgEven<>+52(SB)/4, $26
DATA wgEven<>+56(SB)/4, $28
DATA wgEven<>+60(SB)/4, $30
GLOBL wgEven<>(SB), RODATA|NOPTR, $64

DATA wgOdd<>+0(SB)/4, $1
DATA wgOdd<>+4(SB)/4, $3
DATA wgOdd<>+8(SB)/4, $5
DATA wgOdd<>+12(SB)/4, $7
DATA wgOdd<>+16(SB)/4, $9
DATA wgOdd<>+20(SB)/4, $11
DATA wgOdd<>+24(SB)/4, $13
DATA wgOdd<>+28(SB)/4, $15
DATA wgOdd<>+32(SB)/4, $17
DATA wgOdd<>+36(SB)/4, $19
DATA wgOdd<>+40(SB)/4, $21
DATA wgOdd<>+44(SB)/4, $23
DATA wgOdd<>+48(SB)/4, $25
DATA wgOdd<>+52(SB)/4, $27
DATA wgOdd<>+56(SB)/4, $29
DATA wgOdd<>+60(SB)/4, $31
GLOBL wgOdd<>(SB), RODATA|NOPTR, $64

DATA wgLo<>+0(SB)/4, $0
DATA wgLo<>+4(SB)/4, $16
DATA wgLo<>+8(SB)/4, $1
DATA wgLo<>+12(SB)/4, $17
DATA wgLo<>+16(SB)/4, $2
DATA wgLo<>+20(SB)/4, $18
DATA wgLo<>+24(SB)/4, $3
DATA wgLo<>+28(SB)/4, $19
DATA wgLo<>+32(SB)/4, $4
DATA wgLo<>+36(SB)/4, $20
DATA wgLo<>+40(SB)/4, $5
DATA wgLo<>+44(SB)/4, $21
DATA wgLo<>+48(SB)/4, $6
DATA wgLo<>+52(SB)/4, $22
DATA wgLo<>+56(SB)/4, $7
DATA wgLo<>+60(SB)/4, $23
GLOBL wgLo<>(SB), RODATA|NOPTR, $64

DATA wgHi<>+0(SB)/4, $8
DATA wgHi<>+4(SB)/4, $24
DATA wgHi<>+8(SB)/4, $9
DATA wgHi<>+12(SB)/4, $25
DATA wgHi<>+16(SB)/4, $10
DATA wgHi<>+20(SB)/4, $26
DATA wgHi<>+24(SB)/4, $11
DATA wgHi<>+28(SB)/4, $27
DATA wgHi<>+32(SB)/4, $12
DATA wgHi<>+36(SB)/4, $28
DATA wgHi<>+40(SB)/4, $13
DATA wgHi<>+44(SB)/4, $29
DATA wgHi<>+48(SB)/4, $14
DATA wgHi<>+52(SB)/4, $30
DATA wgHi<>+56(SB)/4, $15
DATA wgHi<>+60(SB)/4, $31
GLOBL wgHi<>(SB), RODATA|NOPTR, $64

