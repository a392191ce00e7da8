// One program compiled twice, against upstream llama.cpp's static libraries and against ctxembed's
// patched ones, whose outputs are compared byte for byte (patches-vs-upstream.test.ts):
//
//   llama-probe tokens MODEL TEXTS        each text's ids, add_special and parse_special off
//   llama-probe embed MODEL TEXTS FA      every token's output vector as the hex of its f32 bits,
//                                         all texts in one batch (one sequence each), flash
//                                         attention on (FA = 1) or off (0), one thread, no
//                                         weight repacking
//
// TEXTS holds one text a line, hex-encoded UTF-8 (a text may contain newlines).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "llama.h"

static std::vector<std::string> read_texts(const char * path) {
    std::ifstream in(path);
    std::vector<std::string> texts;
    for (std::string line; std::getline(in, line);) {
        std::string text;
        for (size_t i = 0; i + 1 < line.size(); i += 2) text.push_back((char) std::stoi(line.substr(i, 2), nullptr, 16));
        texts.push_back(text);
    }
    return texts;
}

static std::vector<llama_token> tokenize(const llama_vocab * vocab, const std::string & text, bool add_special) {
    std::vector<llama_token> ids(text.size() + 8);
    int n = llama_tokenize(vocab, text.data(), (int32_t) text.size(), ids.data(), (int32_t) ids.size(), add_special, false);
    if (n < 0) {
        ids.resize(-n);
        n = llama_tokenize(vocab, text.data(), (int32_t) text.size(), ids.data(), (int32_t) ids.size(), add_special, false);
    }
    ids.resize(n);
    return ids;
}

int main(int argc, char ** argv) {
    if (argc < 4 || (std::strcmp(argv[1], "embed") == 0 && argc < 5)) {
        std::fprintf(stderr, "usage: %s tokens MODEL TEXTS | embed MODEL TEXTS FA\n", argv[0]);
        return 2;
    }
    const bool embed = std::strcmp(argv[1], "embed") == 0;
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    llama_backend_init();

    llama_model_params model_params = llama_model_default_params();
    model_params.vocab_only = !embed;
    model_params.use_extra_bufts = false;  // neither upstream's repacking nor ctxembed's
    llama_model * model = llama_model_load_from_file(argv[2], model_params);
    if (model == nullptr) {
        std::fprintf(stderr, "cannot load %s\n", argv[2]);
        return 1;
    }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    const std::vector<std::string> texts = read_texts(argv[3]);

    if (!embed) {
        for (const std::string & text : texts) {
            for (llama_token id : tokenize(vocab, text, false)) std::printf("%d ", id);
            std::printf("\n");
        }
        llama_model_free(model);
        return 0;
    }

    std::vector<std::vector<llama_token>> inputs;
    int32_t total = 0;
    for (const std::string & text : texts) {
        inputs.push_back(tokenize(vocab, text, true));
        total += (int32_t) inputs.back().size();
    }
    llama_context_params params = llama_context_default_params();
    params.embeddings = true;
    params.pooling_type = LLAMA_POOLING_TYPE_NONE;
    params.flash_attn_type = std::atoi(argv[4]) ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    params.n_ctx = params.n_batch = params.n_ubatch = (uint32_t) total;
    params.n_seq_max = (uint32_t) inputs.size();
    params.kv_unified = true;
    params.n_threads = params.n_threads_batch = 1;
    llama_context * ctx = llama_init_from_model(model, params);
    if (ctx == nullptr) {
        std::fprintf(stderr, "cannot create a context for %s\n", argv[2]);
        return 1;
    }

    llama_batch batch = llama_batch_init(total, 0, 1);
    for (size_t s = 0; s < inputs.size(); s++) {
        for (size_t t = 0; t < inputs[s].size(); t++) {
            const int32_t i = batch.n_tokens++;
            batch.token[i] = inputs[s][t];
            batch.pos[i] = (llama_pos) t;
            batch.n_seq_id[i] = 1;
            batch.seq_id[i][0] = (llama_seq_id) s;
            batch.logits[i] = true;
        }
    }
    if (llama_decode(ctx, batch) != 0) {
        std::fprintf(stderr, "llama_decode failed on %s\n", argv[2]);
        return 1;
    }
    const int n_embd = llama_model_n_embd_out(model);
    for (int32_t i = 0; i < total; i++) {
        const float * vector = llama_get_embeddings_ith(ctx, i);
        for (int d = 0; d < n_embd; d++) {
            uint32_t bits;
            std::memcpy(&bits, &vector[d], sizeof bits);
            std::printf("%08x%c", bits, d + 1 < n_embd ? ' ' : '\n');
        }
    }
    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
