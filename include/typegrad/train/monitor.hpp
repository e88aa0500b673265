// Decisions taken on the validation accuracy after every epoch: Nielsen's learning-rate
// schedule (ch. 3: halve η when the validation accuracy stops improving, stop once η has
// dropped to η₀/2ᴺ) and early stopping with patience. A small class with observe(epoch,
// accuracy) -> Decision, so the rule is tested on scripted accuracies without training, and a
// plain state that checkpoints keep, so a resumed run decides exactly as an uninterrupted one.
//
// Semantics (those of Keras' callbacks, which PyTorch users know as ReduceLROnPlateau and
// Lightning's EarlyStopping):
//   - an epoch improves when its accuracy is strictly greater than the best so far (the first
//     observed epoch always does): min_delta = 0, mode = "max";
//   - halving (PlateauRule::halve_after = K): after K consecutive epochs without improvement η is
//     halved and the count starts again (cooldown 0): Keras' ReduceLROnPlateau(factor=0.5,
//     patience=K), PyTorch's ReduceLROnPlateau(mode="max", factor=0.5, patience=K-1,
//     threshold=0) — PyTorch reduces when the count *exceeds* its patience. The N-th halving
//     (max_halvings) stops training instead of training on at η₀/2ᴺ: N = 7 is Nielsen's "until
//     η is 1/128 of its initial value";
//   - patience P: stop after P consecutive epochs without improvement (Keras' EarlyStopping and
//     Lightning's: wait >= patience), counted from the best epoch, halvings notwithstanding.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace typegrad::train {

/// The rules: each 0 is off.
struct PlateauRule {
    std::size_t halve_after = 0;   // K: halve η after K epochs without improvement
    std::size_t max_halvings = 7;  // N: the N-th halving stops training (η₀/2ᴺ is never trained at)
    std::size_t patience = 0;      // P: stop after P epochs without improvement

    [[nodiscard]] bool active() const noexcept { return halve_after > 0 || patience > 0; }
};

/// What the monitor knows after the epochs it observed (saved in checkpoints).
struct MonitorState {
    std::size_t best_epoch = 0;       // 0: no epoch observed yet
    double best_accuracy = 0.0;       // the validation score of best_epoch: its accuracy (a regression: −MSE)
    std::size_t epochs_without_improvement = 0;  // since best_epoch
    std::size_t epochs_since_halving = 0;        // without improvement, since the last improvement or halving
    std::size_t halvings = 0;         // η is η₀ / 2^halvings (times any step decay)

    /// The factor the halvings put on η: 2^-halvings, exact (0 past 1074 halvings).
    [[nodiscard]] double eta_scale() const noexcept {
        return std::ldexp(1.0, -static_cast<int>(std::min<std::size_t>(halvings, 1100)));
    }
    friend bool operator==(const MonitorState&, const MonitorState&) = default;
};

/// Why training stops.
enum class StopReason { none, patience, halvings };

/// What one observed epoch decided.
struct Decision {
    bool improved = false;  // a new best
    bool halved = false;    // η is halved from the next epoch on (also on the stopping halving)
    StopReason stop = StopReason::none;
};

/// The rules applied to one validation accuracy per epoch.
class Monitor {
public:
    explicit Monitor(PlateauRule rule = {}, MonitorState state = {}) noexcept : rule_(rule), state_(state) {}

    /// The accuracy of `epoch` (1-based, increasing); returns what it decided and updates the state.
    Decision observe(std::size_t epoch, double accuracy) noexcept {
        Decision d;
        if (state_.best_epoch == 0 || accuracy > state_.best_accuracy) {
            state_.best_epoch = epoch;
            state_.best_accuracy = accuracy;
            state_.epochs_without_improvement = 0;
            state_.epochs_since_halving = 0;
            d.improved = true;
            return d;
        }
        ++state_.epochs_without_improvement;
        ++state_.epochs_since_halving;
        if (rule_.patience > 0 && state_.epochs_without_improvement >= rule_.patience) {
            d.stop = StopReason::patience;
            return d;
        }
        if (rule_.halve_after > 0 && state_.epochs_since_halving >= rule_.halve_after) {
            ++state_.halvings;
            state_.epochs_since_halving = 0;
            d.halved = true;
            if (state_.halvings >= rule_.max_halvings) d.stop = StopReason::halvings;
        }
        return d;
    }

    /// Whether the state already says stop under these rules (a resumed run that had stopped:
    /// nothing more to train, unless the rules given now are looser).
    [[nodiscard]] StopReason stopped() const noexcept {
        if (rule_.patience > 0 && state_.epochs_without_improvement >= rule_.patience) return StopReason::patience;
        if (rule_.halve_after > 0 && state_.halvings >= rule_.max_halvings) return StopReason::halvings;
        return StopReason::none;
    }

    [[nodiscard]] const PlateauRule& rule() const noexcept { return rule_; }
    [[nodiscard]] const MonitorState& state() const noexcept { return state_; }

private:
    PlateauRule rule_;
    MonitorState state_;
};

}  // namespace typegrad::train
