// Why a run stopped early, in the metric the validation monitor watched (src/cli/run_report.hpp):
// accuracy, a regression's mse, a text model's loss per token — the monitor's score is the
// accuracy, −MSE or −loss, and the line names the value, not the score.
#include <catch2/catch.hpp>

#include "run_report.hpp"

using namespace typegrad;
using cli::Score;

TEST_CASE("stop_text names the metric the monitor watched and its best value", "[cli]") {
    train::MonitorState m;
    m.best_epoch = 3;
    m.epochs_without_improvement = 2;
    m.best_accuracy = 0.9612;
    CHECK(cli::stop_text(train::StopReason::patience, m, 0.1) ==
          "no improvement of validation accuracy for 2 epochs (best 0.9612 at epoch 3)");
    m.best_accuracy = -0.25;  // −MSE
    CHECK(cli::stop_text(train::StopReason::patience, m, 0.1, Score::mse) ==
          "no improvement of validation mse for 2 epochs (best 0.25 at epoch 3)");
    m.best_accuracy = -1.23456;  // −loss
    CHECK(cli::stop_text(train::StopReason::patience, m, 0.1, Score::loss) ==
          "no improvement of validation loss for 2 epochs (best 1.2346 nats/token at epoch 3)");
    m.halvings = 1;
    CHECK(cli::stop_text(train::StopReason::halvings, m, 0.1, Score::loss).starts_with("eta halved 1 time, to "));
    CHECK(cli::stop_text(train::StopReason::halvings, m, 0.1, Score::loss).ends_with(
          ", on plateaus of the validation loss (best 1.2346 nats/token at epoch 3)"));
}
