#include "textflag.h"

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
