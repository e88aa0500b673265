// The run's setup and report of `typegrad train` (run_setup.hpp, run_report.hpp): not templates
// over the network, so compiled once here rather than in every network's plugin (a plugin calls
// them in the typegrad executable, which exports its symbols).
#include "run_report.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace typegrad::cli {

init::Scheme init_scheme(const std::string& name) {
    if (name == "normal") return init::Scheme::article;
    if (name == "network2") return init::Scheme::network2;
    if (name == "glorot") return init::Scheme::glorot;
    if (name == "he") return init::Scheme::he;
    if (name == "pytorch") return init::Scheme::pytorch;
    return init::Scheme::automatic;
}

train::AnyOptimizer make_optimizer(const TrainOptions& o) {
    if (o.optimizer == "adam") return train::Adam{};
    if (o.optimizer == "momentum" || o.optimizer == "nesterov") {
        train::Momentum m;
        m.mu = o.momentum;
        m.nesterov = o.optimizer == "nesterov";
        return m;
    }
    return train::Sgd{};
}

std::string optimizer_text(const TrainOptions& o, bool with_init) {
    std::string s;
    if (o.optimizer == "momentum" || o.optimizer == "nesterov") s += cat(", ", o.optimizer, " ", format_real(o.momentum));
    else if (o.optimizer != "sgd") s += cat(", ", o.optimizer);
    if (o.lambda != 0) s += cat(", lambda ", format_real(o.lambda));
    if (with_init && o.init != "default") s += cat(", init ", o.init);
    return s;
}

LoadedData prepare(const TrainOptions& o, std::size_t n_in, std::size_t n_out, data::Dataset& validation) {
    LoadedData p = load_data({o.data_dir, o.data_from_environment, o.seed, o.test_file, o.target, o.target_given, o.text,
                              o.vocabulary.empty() ? nullptr : &o.vocabulary, o.validation},
                             o.limit, o.test_limit, n_in, n_out, true);
    if (o.text && !o.test_file) {  // the last --validation windows of the text are its test set
        if (o.validation >= p.split.train.size())
            throw UsageError(cat("--validation: ", std::to_string(o.validation), " held-out windows leave none of the ",
                                 std::to_string(p.split.train.size()), " windows of ", o.data_dir->string(), " to train on"));
        p.split.test = p.split.train.tail(o.validation);
        p.split.train = p.split.train.head(p.split.train.size() - o.validation);
    } else if (o.validation > 0) {
        if (o.validation >= p.split.train.size())
            throw UsageError(cat("--validation: ", std::to_string(o.validation), " held-out examples leave none of the ",
                                 std::to_string(p.split.train.size()), " training examples to train on"));
        validation = p.split.train.tail(o.validation);
        p.split.train = p.split.train.head(p.split.train.size() - o.validation);
    }
    if (o.batch > p.split.train.size())
        throw UsageError(cat("--batch: ", std::to_string(o.batch), " is larger than the number of training examples (",
                             std::to_string(p.split.train.size()), ")"));
    return p;
}

io::CheckpointImage read_resume(const std::filesystem::path& file) {
    try {
        return io::read_checkpoint_file(file);
    } catch (const io::CheckpointError& e) {
        throw RunError(cat("--resume ", e.what()));
    }
}

void check_batch_norm_options(const TrainOptions& o, std::size_t whole) {
    const std::string why = "batch norm normalises over the whole mini-batch";
    if (whole == 0)
        throw UsageError(cat("--grad ", o.grad, ": the engine computes the gradient one example at a time, and ", why,
                             " (use --grad autodiff)"));
    if (o.batch < 2) throw UsageError(cat("--batch ", o.batch, ": ", why, ", which needs at least 2 examples"));
    if (o.batch != whole)
        throw RunError(cat("--batch ", o.batch, ": this network was compiled for batches of ", whole,
                           " (batch norm's mini-batch is one program of that size)"));
    if (o.threads > 1) throw UsageError(cat("--threads ", o.threads, ": ", why, ", which one thread computes (use --threads 1)"));
    if (processes().size() > 1)
        throw UsageError(cat("mpirun -np ", processes().size(), ": ", why,
                             ", which one process computes; each process would normalise its own share"));
}

double optimizer_eta(const TrainOptions& o, double sgd_eta) {
    if (o.optimizer == "adam") return 1e-3;
    if (o.optimizer == "momentum" || o.optimizer == "nesterov") return sgd_eta * (1.0 - o.momentum);
    return sgd_eta;
}

void print_header(const TrainOptions& o, const LoadedData& p, const std::string& network, std::string_view cost,
                  const char* type, std::size_t parameters) {
    std::string schedule = o.schedule == "constant" ? std::string() : cat(" (schedule ", o.schedule, ")");
    if (o.patience > 0) schedule += cat(", patience ", std::to_string(o.patience));
    const std::string threads = o.threads == 1 ? std::string() : cat(", ", std::to_string(o.threads), " threads");
    say(stdout, "typegrad train: %s, %s cost, %s, %s gradient, batch %zu%s, eta %g%s%s, %zu epoch%s, seed %llu, "
                "%zu train%s / %zu test (%s)",
                network.c_str(), std::string(cost).c_str(), type, o.grad.c_str(), o.batch, threads.c_str(), o.eta,
                schedule.c_str(),
                optimizer_text(o, true).c_str(), o.epochs,
                o.epochs == 1 ? "" : "s", static_cast<unsigned long long>(o.seed), p.split.train.size(),
                o.validation ? cat(" / ", std::to_string(o.validation), " validation").c_str() : "", p.split.test.size(),
                p.description.c_str());
    say(stdout, "%zu parameters; data: %s%s", parameters, p.split.train.describe().c_str(),
        p.split.train.task == data::Task::regression ? " (regression: test mse and mae are over every output)" : "");
    (void)flush_stdout();
}

std::string training_note(const TrainOptions& o, const data::Dataset& train) {
    const std::string eta_text = format_real(o.eta);
    const std::size_t n_train = train.size();
    std::string data;
    if (o.test_file) {
        data = cat("a data file (content ", data::content_fingerprint(train), ")");
    } else if (o.data_dir) {
        data = cat("IDX data (content ", data::content_fingerprint(train), ")");
    } else {
        data = cat("synthetic digits (seed ", std::to_string(o.seed), ")");
    }
    // the schedule only when there is one, so that notes of constant-eta runs read as before
    const std::string schedule = o.schedule == "constant" ? std::string() : cat(", schedule ", o.schedule);
    // the threads only when not 1: they change the last bits of every step (and notes of one
    // thread read as before)
    const std::string threads = o.threads == 1 ? std::string() : cat(", ", std::to_string(o.threads), " threads");
    return cat("batch ", std::to_string(o.batch), threads, ", eta ", eta_text, schedule, optimizer_text(o, false), ", ",
               o.grad, " gradient, ", std::to_string(n_train), " training examples of ", data);
}

std::string note_difference(const std::string& before, const std::string& now) {
    const auto items = [](const std::string& s) {
        std::vector<std::string> v;
        std::size_t from = 0;
        for (std::size_t at; (at = s.find(", ", from)) != std::string::npos; from = at + 2)
            v.push_back(s.substr(from, at - from));
        v.push_back(s.substr(from));
        return v;
    };
    const auto a = items(before), b = items(now);
    if (a.size() != b.size()) return cat(now, " instead of ", before);
    std::vector<std::string> changes;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i]) changes.push_back(cat(b[i], " instead of ", a[i]));
    return join(changes);
}

std::string shell_words(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) {
        if (!out.empty()) out += ' ';
        const bool safe = !w.empty() && std::all_of(w.begin(), w.end(), [](unsigned char c) {
            return std::isalnum(c) != 0 || std::string_view("-_./=:,+@%").find(static_cast<char>(c)) != std::string_view::npos;
        });
        if (safe) {
            out += w;
            continue;
        }
        out += '\'';
        for (const char c : w) {
            if (c == '\'') out += "'\\''";
            else out += c;
        }
        out += '\'';
    }
    return out;
}

std::string resume_command(const TrainOptions& o) {
    std::vector<std::string> words{"typegrad"};
    for (std::size_t i = 0; i < o.command.size(); ++i) {
        const std::string& a = o.command[i];
        if (a == "--resume") {
            ++i;  // and its value
            continue;
        }
        if (a.rfind("--resume=", 0) == 0) continue;
        words.push_back(a);
    }
    words.push_back("--resume");
    words.push_back(o.save->string());
    // under mpirun the run continues under mpirun, with as many processes
    const int p = processes().size();
    return (p > 1 ? cat("mpirun -np ", p, " ") : std::string()) + shell_words(words);
}

void check_stdout() {
    if (!flush_stdout()) throw OutputError(cat("standard output: cannot write: ", std::strerror(stdout_error())));
}

}  // namespace typegrad::cli
