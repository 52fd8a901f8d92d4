#include "core/sweep.h"

#include "core/compressed_mla.h"

#include "core/checked.h"
#include "core/error.h"
#include "core/fit_start.h"
#include "core/weights.h"

namespace kvplan {

std::uint64_t sweep_row_count(const SweepRequest& request) {
  const std::string what = "the number of sweep combinations";
  const std::uint64_t per_variant =
      checked_mul(checked_mul(request.kv_dtypes.size(), request.contexts.size(), what), request.fleets.size(), what);
  std::uint64_t rows = 0;
  for (const SweepModel& model : request.models) {
    std::vector<std::string> refused;
    const std::uint64_t variants = resolve_variants_skipping(request.variants, *model.shape, refused).size();
    rows = checked_add(rows, checked_add(checked_mul(variants, per_variant, what), refused.size(), what), what);
  }
  return rows;
}

namespace {

// Each fleet's fit up to what the context changes, made once for all the contexts of a sweep.
std::vector<FitStart> fleet_starts(const SweepRequest& request, const ModelShape& shape, const Variant& variant,
                                   KvDtype dtype, const WeightsDtype& weights) {
  std::vector<FitStart> starts;
  for (const SweepFleet& fleet : request.fleets) {
    FitRequest fit_request;
    fit_request.variant = variant;
    fit_request.kv_dtype = dtype;
    fit_request.parallel = fleet.parallel;
    set_engine_expert_span(fit_request.parallel, request.engine.engine, shape);
    fit_request.options = request.engine;
    set_request_weights(fit_request, weights);
    fit_request.explanations = false;  // a row shows the numbers only
    starts.push_back(start_fit(shape, *fleet.gpu, fit_request));
  }
  return starts;
}

}  // namespace

void for_each_sweep_row(const SweepRequest& request, const std::function<void(const SweepRow&)>& emit) {
  for (const SweepModel& model : request.models) {
    const ModelShape& shape = *model.shape;
    // Variants that make no sense for this model (gqa:G with G not dividing its heads) are
    // skipped with a row saying why.
    std::vector<std::string> refused;
    // One compressed latent shared by all heads (DeepSeek-V4) has no variants: its own attention only.
    const std::vector<ResolvedVariant> variants =
        shape.compressed_mla ? std::vector<ResolvedVariant>{{native_variant(shape), true, "the model's own attention"}}
                             : resolve_variants_skipping(request.variants, shape, refused);
    // A checkpoint whose weights kvplan cannot size (--weights-dtype auto on a scheme it does not
    // model) is one row with the reason, not the end of the sweep.
    std::optional<WeightsDtype> resolved;
    try {
      resolved = resolve_weights_dtype(request.weights_dtype, shape);
    } catch (const Error& e) {
      SweepRow row;
      row.model = model.name;
      row.status = e.what();
      emit(row);
      continue;
    }
    const WeightsDtype& weights = *resolved;
    for (const ResolvedVariant& variant : variants) {
      const std::string variant_name = shape.compressed_mla ? "compressed" : variant.variant.name();
      for (KvDtype dtype : request.kv_dtypes) {
        const std::vector<FitStart> starts = fleet_starts(request, shape, variant.variant, dtype, weights);
        for (Tokens ctx : request.contexts) {
          SizeRequest size_request;
          size_request.ctx = ctx;
          size_request.dtype = dtype;
          std::optional<std::uint64_t> per_token_layer, per_sequence;
          std::string size_error;
          try {
            if (shape.compressed_mla) {
              // Its caches are not per token per layer: the column stays empty.
              per_token_layer = 0;
              per_sequence = compressed_size(*shape.compressed_mla, dtype, ctx.value, 1, 0).per_sequence;
            } else {
              const SizeReport size = compute_kv_size(shape, {variant}, size_request);
              per_token_layer = size.variants[0].token_layer.total();
              per_sequence = size.variants[0].per_sequence.value;
            }
          } catch (const Error& e) {
            size_error = e.what();
          }
          for (std::size_t f = 0; f < request.fleets.size(); ++f) {
            const SweepFleet& fleet = request.fleets[f];
            SweepRow row;
            row.model = model.name;
            row.variant = variant_name;
            row.native = variant.native;
            row.kv_dtype = dtype;
            row.ctx = ctx;
            row.fleet = fleet.label;
            row.parallel = fleet.parallel;
            if (!per_sequence) {
              row.status = size_error;
              emit(row);
              continue;
            }
            row.bytes_per_token_per_layer = *per_token_layer;
            row.bytes_per_sequence = *per_sequence;
            FitOutcome outcome = fit_at(starts[f], ctx);
            row.fit = std::move(outcome.result);
            row.status = row.fit ? "ok" : std::move(outcome.refusal);
            if (row.fit && shape.compressed_mla && row.fit->kv_cache_dtype != dtype) {
              // The backend stores another layout (FlashMLA: fp8_ds_mla for auto and fp8): size what it holds.
              row.bytes_per_sequence =
                  compressed_size(*shape.compressed_mla, row.fit->kv_cache_dtype, ctx.value, 1, 0).per_sequence;
            }
            emit(row);
          }
        }
      }
    }
    for (const std::string& reason : refused) {
      SweepRow row;
      row.model = model.name;
      row.status = reason;
      emit(row);
    }
  }
}

std::vector<SweepRow> run_sweep(const SweepRequest& request) {
  std::vector<SweepRow> rows;
  for_each_sweep_row(request, [&rows](const SweepRow& row) { rows.push_back(row); });
  return rows;
}

}  // namespace kvplan
