//! Every key the config reader accepts does something a test can see. `EFFECTS` names,
//! for each key, the tests that set it to another value and show what changes (a
//! screen, a message on the wire, printed bytes, a file, an output); `PENDING` lists the
//! keys whose effect no test shows yet, each with what is missing. This test fails when
//! a key is in neither list or in both, when a named test does not exist, and when a
//! list names a key the reader does not accept; so a new setting cannot arrive without
//! a test of its effect, or a line here saying why not yet.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

/// Key → tests (`path/from/the/workspace.rs::[module::]function`) showing its effect.
const EFFECTS: &[(&str, &[&str])] = &[
    (
        "rfid.reader",
        &[
            "tests/tests/rfid.rs::five_tagged_books_at_once_four_lent_with_their_afi_switched_and_a_set_lent_only_whole",
        ],
    ),
    ("rfid.security", &["kiosk/tests/settings.rs::rfid_security_and_afi_values"]),
    ("rfid.afi_on_shelf", &["kiosk/tests/settings.rs::rfid_security_and_afi_values"]),
    ("rfid.afi_on_loan", &["kiosk/tests/settings.rs::rfid_security_and_afi_values"]),
    (
        "library.furigana",
        &[
            "kiosk/tests/settings.rs::furigana",
            "ui/tests/screens.rs::furigana_shows_a_reading_on_every_kanji",
        ],
    ),
    ("rfid.patron_cards", &["kiosk/tests/settings.rs::rfid_patron_cards"]),
    ("rfid.count_check", &["kiosk/tests/settings.rs::rfid_count_check"]),
    (
        "desensitizer.backend",
        &["tests/tests/rfid.rs::the_desensitizer_pulses_once_per_book_lent_and_never_for_one_refused"],
    ),
    ("statistics.keep_days", &["kiosk/tests/settings.rs::statistics_keep_days"]),
    (
        "audio.device",
        &[
            "tests/tests/voice.rs::a_patron_hears_each_step_of_a_loan_and_never_a_pin_digit",
            "tests/tests/voice.rs::a_kiosk_with_device_none_is_silent_and_says_so_to_staff",
        ],
    ),
    (
        "audio.volume",
        &["tests/tests/voice.rs::the_volume_voice_and_device_settings_and_the_staff_menu_s_sound_controls"],
    ),
    (
        "audio.voice",
        &["tests/tests/voice.rs::the_volume_voice_and_device_settings_and_the_staff_menu_s_sound_controls"],
    ),
    (
        "audio.headphones",
        &["tests/tests/voice.rs::headphones_in_the_keypad_s_jack_take_the_whole_journey_off_the_speaker"],
    ),
    (
        "audio.jack",
        &["tests/tests/voice.rs::a_jack_on_an_input_node_of_its_own_takes_the_voice_to_the_headphones"],
    ),
    (
        "audio.titles",
        &[
            "tests/tests/voice.rs::headphones_in_the_keypad_s_jack_take_the_whole_journey_off_the_speaker",
            "tests/tests/voice.rs::with_titles_off_the_headphones_hear_each_result_without_its_title",
        ],
    ),
    (
        "audio.title_voice",
        &[
            "tests/tests/voice.rs::headphones_in_the_keypad_s_jack_take_the_whole_journey_off_the_speaker",
            "drivers/audio/tests/speech.rs::a_slow_synthesiser_is_stopped_and_a_missing_voice_is_named",
        ],
    ),
    (
        "keypad.device",
        &["tests/tests/voice.rs::a_blind_patron_borrows_with_the_keypad_alone_and_hears_every_step"],
    ),
    (
        "audio.prompts",
        &[
            "tests/tests/voice.rs::a_patron_hears_each_step_of_a_loan_and_never_a_pin_digit",
            "tests/tests/voice.rs::a_missing_prompt_pack_leaves_the_tones_and_the_status_page_says_why",
        ],
    ),
    (
        "metrics.listen",
        &["tests/tests/metrics.rs::prometheus_scrapes_the_kiosk_and_counts_the_loans_of_the_last_hour"],
    ),
    (
        "metrics.ca_file",
        &["tests/tests/metrics.rs::prometheus_scrapes_the_kiosk_and_counts_the_loans_of_the_last_hour"],
    ),
    (
        "metrics.cert_file",
        &["tests/tests/metrics.rs::prometheus_scrapes_the_kiosk_and_counts_the_loans_of_the_last_hour"],
    ),
    (
        "metrics.key_file",
        &["tests/tests/metrics.rs::prometheus_scrapes_the_kiosk_and_counts_the_loans_of_the_last_hour"],
    ),
    (
        "platform.crl_refresh_s",
        &["sim/tests/platform_crl.rs::the_refresher_fetches_the_crl_at_the_configured_interval"],
    ),
    ("counter.key_delay_ms", &["drivers/keyboard/src/gadget.rs::tests::the_key_delay_is_kept_between_keys"]),
    ("printer.device", &["sim/tests/printer_labels.rs::a_serial_printer_gets_the_job_on_its_device"]),
    (
        "library.languages",
        &[
            "kiosk/tests/settings.rs::languages_offered",
            "ui/tests/screens.rs::the_language_button_is_there_only_when_there_is_a_choice",
        ],
    ),
    (
        "platform.connect_timeout_s",
        &[
            "sim/tests/platform_api.rs::a_connection_that_never_starts_tls_is_given_up_after_the_connect_timeout",
        ],
    ),
    (
        "ils.request_timeout_s",
        &["sim/tests/sip2_client.rs::the_configured_timeout_and_retries_apply_when_the_server_gives_none"],
    ),
    (
        "ils.retries",
        &["sim/tests/sip2_client.rs::the_configured_timeout_and_retries_apply_when_the_server_gives_none"],
    ),
    ("ils.encoding", &["tests/tests/journeys.rs::a_shift_jis_library_system_s_titles_arrive_whole"]),
    (
        "counter.keyboard_terminator",
        &["tests/tests/counter.rs::relinking_needs_confirmation_and_a_link_can_be_removed"],
    ),
    (
        "card.reader",
        &["tests/tests/journeys.rs::kiosk_health_passes_with_every_peer_up_and_fails_when_one_is_down"],
    ),
    (
        "library.kiosk_id",
        &["tests/tests/journeys.rs::a_library_card_patron_borrows_and_a_method_d_label_works_today"],
    ),
    (
        "library.institution_id",
        &["tests/tests/journeys.rs::the_library_system_gets_the_configured_institution_and_location"],
    ),
    (
        "ils.location_code",
        &["tests/tests/journeys.rs::the_library_system_gets_the_configured_institution_and_location"],
    ),
    ("library.name", &["kiosk/tests/settings.rs::library_name"]),
    ("library.card_name", &["kiosk/tests/config_check.rs::card_name::the_card_name_reaches_the_screen"]),
    (
        "library.service_provider_id",
        &["tests/tests/journeys.rs::a_patron_borrows_three_books_takes_a_receipt_and_the_card"],
    ),
    (
        "library.mode",
        &[
            "tests/tests/counter.rs::staff_link_a_card_then_every_method_hands_the_number_off",
            "tests/tests/counter.rs::a_self_checkout_kiosk_refuses_counter_actions",
            "kiosk/tests/counter_screens.rs::a_self_checkout_console_refuses_link_a_card",
        ],
    ),
    ("card.mode", &["kiosk/tests/cli.rs::run_with_only_simulated_devices_points_to_the_demo"]),
    (
        "card.require_pin",
        &[
            "tests/tests/journeys.rs::without_the_pin_the_patron_borrows_and_the_card_is_never_asked_for_it",
            "kiosk/core/tests/patron_session.rs::without_require_pin_no_pin_is_asked",
            "kiosk/core/tests/counter_session.rs::pin_and_revocation_check_are_each_optional_at_the_counter",
            "kiosk/core/tests/flow_props.rs::patron_session_invariants",
        ],
    ),
    (
        "card.library_card_login",
        &[
            "kiosk/core/tests/patron_session.rs::library_card_login_can_be_disabled",
            "kiosk/core/tests/password_session.rs::the_password_is_asked_and_checked_by_the_library_system",
            "tests/tests/account.rs::a_library_card_with_its_password_borrows_and_sees_the_account",
            "tests/tests/account.rs::with_passwords_a_label_s_linear_barcode_asks_for_it_and_its_token_works_once",
        ],
    ),
    ("card.allow_method_d_label", &["kiosk/tests/settings.rs::method_d_label_login"]),
    (
        "platform.mode",
        &[
            "tests/tests/journeys.rs::without_the_pin_the_patron_borrows_and_the_card_is_never_asked_for_it",
            "tests/tests/counter.rs::staff_link_a_card_then_every_method_hands_the_number_off",
            "kiosk/tests/cli.rs::run_with_only_simulated_devices_points_to_the_demo",
        ],
    ),
    (
        "platform.url",
        &[
            "tests/tests/journeys.rs::a_patron_borrows_three_books_takes_a_receipt_and_the_card",
            "tests/tests/journeys.rs::without_the_pin_the_patron_borrows_and_the_card_is_never_asked_for_it",
        ],
    ),
    (
        "platform.ca_file",
        &[
            "sim/tests/platform_api.rs::server_certificates_from_another_ca_or_expired_are_refused",
            "tests/tests/journeys.rs::a_patron_borrows_three_books_takes_a_receipt_and_the_card",
        ],
    ),
    (
        "platform.jpki_ca_file",
        &[
            "sim/tests/platform_api.rs::a_forged_signature_is_refused_before_the_platform_is_asked",
            "tests/tests/journeys.rs::a_patron_borrows_three_books_takes_a_receipt_and_the_card",
        ],
    ),
    (
        "platform.client_cert",
        &[
            "tests/tests/registration.rs::a_new_board_is_registered_from_the_staff_menu_and_then_lends",
            "tests/tests/registration.rs::registration_refusals_say_what_to_do",
            "sim/tests/platform_api.rs::a_client_certificate_from_another_ca_is_refused",
        ],
    ),
    (
        "platform.client_key",
        &[
            "tests/tests/registration.rs::a_new_board_is_registered_from_the_staff_menu_and_then_lends",
            "tests/tests/registration.rs::registration_refusals_say_what_to_do",
        ],
    ),
    ("platform.terminal_id", &["tests/tests/registration.rs::registration_refusals_say_what_to_do"]),
    ("platform.terminal_password", &["tests/tests/registration.rs::registration_refusals_say_what_to_do"]),
    (
        "platform.request_timeout_s",
        &["sim/tests/platform_api.rs::a_platform_that_never_answers_times_out_within_ten_percent"],
    ),
    (
        "platform.offline_policy",
        &["sim/tests/platform_api.rs::grace_accepts_a_cached_good_until_next_update_and_never_a_forgery"],
    ),
    (
        "platform.link_store",
        &[
            "tests/tests/counter.rs::staff_link_a_card_then_every_method_hands_the_number_off",
            "tests/tests/counter.rs::relinking_needs_confirmation_and_a_link_can_be_removed",
            "tests/tests/journeys.rs::without_the_pin_the_patron_borrows_and_the_card_is_never_asked_for_it",
        ],
    ),
    (
        "platform.link_server",
        &[
            "tests/tests/shared_links.rs::a_card_linked_at_the_counter_lends_at_every_kiosk_of_the_municipality",
            "kiosk/tests/config_check.rs::platform::a_shared_link_store_needs_its_certificates_and_municipality",
        ],
    ),
    (
        "platform.link_server_ca_file",
        &[
            "tests/tests/shared_links.rs::a_card_linked_at_the_counter_lends_at_every_kiosk_of_the_municipality",
        ],
    ),
    (
        "platform.link_client_cert",
        &[
            "tests/tests/shared_links.rs::a_card_linked_at_the_counter_lends_at_every_kiosk_of_the_municipality",
        ],
    ),
    (
        "platform.link_client_key",
        &[
            "tests/tests/shared_links.rs::a_card_linked_at_the_counter_lends_at_every_kiosk_of_the_municipality",
        ],
    ),
    (
        "platform.municipality",
        &[
            "tests/tests/shared_links.rs::a_card_linked_at_the_counter_lends_at_every_kiosk_of_the_municipality",
            "sim/tests/links_shared.rs::each_municipality_sees_and_writes_only_its_own_links",
        ],
    ),
    (
        "platform.link_refresh_s",
        &[
            "sim/tests/links_shared.rs::a_kiosk_asks_for_changes_at_the_configured_interval",
            "kiosk/tests/config_check.rs::platform::a_shared_link_store_needs_its_certificates_and_municipality",
        ],
    ),
    (
        "platform.link_key_file",
        &["tests/tests/journeys.rs::without_the_pin_the_patron_borrows_and_the_card_is_never_asked_for_it"],
    ),
    (
        "ils.mode",
        &[
            "tests/tests/journeys.rs::a_patron_borrows_three_books_takes_a_receipt_and_the_card",
            "tests/tests/counter.rs::staff_link_a_card_then_every_method_hands_the_number_off",
            "kiosk/tests/cli.rs::run_with_only_simulated_devices_points_to_the_demo",
        ],
    ),
    ("ils.host", &["tests/tests/journeys.rs::a_patron_borrows_three_books_takes_a_receipt_and_the_card"]),
    ("ils.port", &["tests/tests/journeys.rs::a_patron_borrows_three_books_takes_a_receipt_and_the_card"]),
    (
        "ils.tls",
        &[
            "sim/tests/sip2_tls.rs::checkout_scenario_over_tls",
            "sim/tests/sip2_tls.rs::a_tls_port_with_tls_off_in_the_kiosk_is_named",
        ],
    ),
    (
        "ils.ca_file",
        &[
            "sim/tests/sip2_tls.rs::a_certificate_from_another_ca_is_named",
            "sim/tests/sip2_tls.rs::the_ca_is_read_from_ils_ca_file_and_the_name_can_be_given_explicitly",
        ],
    ),
    (
        "ils.login_user",
        &["tests/tests/journeys.rs::a_patron_borrows_three_books_takes_a_receipt_and_the_card"],
    ),
    (
        "ils.login_password",
        &[
            "sim/tests/sip2_client.rs::login_refused_is_named",
            "tests/tests/journeys.rs::a_patron_borrows_three_books_takes_a_receipt_and_the_card",
        ],
    ),
    (
        "ils.keepalive_s",
        &[
            "sim/tests/sip2_client.rs::keep_alive_sends_sc_status_when_idle",
            "sim/tests/sip2_real_systems.rs::keep_alive_is_half_the_servers_timeout_when_that_is_shorter",
        ],
    ),
    (
        "ils.profile",
        &[
            "sim/tests/sip2_real_systems.rs::reconciliation_finds_a_loan_listed_by_title",
            "sim/tests/sip2_real_systems.rs::request_mode_sends_harmless_requests_again_and_reconciles_a_checkout",
        ],
    ),
    (
        "ils.resend",
        &[
            "sim/tests/sip2_client.rs::bad_checksum_gets_one_97_then_fails_clearly",
            "sim/tests/sip2_real_systems.rs::a_97_answered_with_ay0_and_twice_encoded_text_is_accepted_and_repaired",
            "sim/tests/sip2_real_systems.rs::request_mode_sends_harmless_requests_again_and_reconciles_a_checkout",
        ],
    ),
    ("ils.charged_items", &["sim/tests/sip2_real_systems.rs::reconciliation_finds_a_loan_listed_by_title"]),
    (
        "ils.override_checkout_not_allowed",
        &[
            "sim/tests/sip2_client.rs::a_lying_98_is_refused_unless_overridden",
            "sim/tests/sip2_real_systems.rs::a_98_refusing_checkout_is_named_with_its_override",
            "kiosk/src/orchestrator/drivers.rs::tests::a_library_system_that_says_checkout_is_not_allowed",
        ],
    ),
    (
        "printer.transport",
        &[
            "tests/tests/journeys.rs::a_patron_borrows_three_books_takes_a_receipt_and_the_card",
            "sim/tests/printer_labels.rs::file_transport_writes_the_job_for_another_program",
            "kiosk/tests/cli.rs::run_with_only_simulated_devices_points_to_the_demo",
        ],
    ),
    ("printer.host", &["tests/tests/journeys.rs::a_patron_borrows_three_books_takes_a_receipt_and_the_card"]),
    ("printer.port", &["tests/tests/journeys.rs::a_patron_borrows_three_books_takes_a_receipt_and_the_card"]),
    ("printer.path", &["sim/tests/printer_labels.rs::file_transport_writes_the_job_for_another_program"]),
    (
        "printer.paper_width_mm",
        &[
            "sim/tests/printer_labels.rs::receipt_wraps_japanese_titles_and_substitutes_what_the_printer_lacks",
        ],
    ),
    ("printer.barcode", &["sim/tests/printer_labels.rs::every_symbology_and_check_digit_scheme_decodes"]),
    (
        "printer.nw7_start",
        &[
            "sim/tests/printer_labels.rs::every_symbology_and_check_digit_scheme_decodes",
            "sim/tests/printer_labels.rs::a_black_mark_label_feeds_to_the_cut_position_before_the_cut",
        ],
    ),
    (
        "printer.nw7_stop",
        &[
            "sim/tests/printer_labels.rs::every_symbology_and_check_digit_scheme_decodes",
            "sim/tests/printer_labels.rs::a_black_mark_label_feeds_to_the_cut_position_before_the_cut",
        ],
    ),
    (
        "printer.check_digit",
        &[
            "tests/tests/counter.rs::staff_link_a_card_then_every_method_hands_the_number_off",
            "sim/tests/printer_labels.rs::bad_patron_numbers_are_refused_before_printing",
            "sim/tests/printer_labels.rs::code128_with_the_nw7_mod16_check_digit_is_refused_by_name",
        ],
    ),
    (
        "printer.label_length_mm",
        &[
            "sim/tests/printer_labels.rs::a_black_mark_label_feeds_to_the_cut_position_before_the_cut",
            "sim/tests/printer_reference.rs::label_and_receipt_bytes_match_python_escpos_for_shared_commands",
        ],
    ),
    (
        "library.account_screen",
        &[
            "kiosk/tests/settings.rs::account_screen",
            "kiosk/core/tests/account_session.rs::a_library_that_turned_the_account_off_never_asks_for_it",
        ],
    ),
    (
        "offline.enabled",
        &[
            "kiosk/tests/settings.rs::offline",
            "tests/tests/offline.rs::three_patrons_borrow_offline_and_every_loan_arrives_once_when_the_library_system_is_back",
        ],
    ),
    (
        "offline.library_card_patrons",
        &[
            "kiosk/tests/settings.rs::offline",
            "kiosk/core/tests/offline_session.rs::library_card_patrons_borrow_offline_only_where_the_library_says",
        ],
    ),
    (
        "offline.items_per_patron",
        &[
            "kiosk/src/orchestrator/offline.rs::tests::items_per_patron_and_items_total_are_the_limits",
            "tests/tests/offline.rs::three_patrons_borrow_offline_and_every_loan_arrives_once_when_the_library_system_is_back",
        ],
    ),
    (
        "offline.items_total",
        &["kiosk/src/orchestrator/offline.rs::tests::items_per_patron_and_items_total_are_the_limits"],
    ),
    (
        "offline.max_hours",
        &[
            "kiosk/src/orchestrator/offline.rs::tests::max_hours_stops_offline_lending_once_the_oldest_loan_waits_that_long",
        ],
    ),
    (
        "offline.loan_days",
        &["kiosk/src/orchestrator/offline.rs::tests::loan_days_sets_the_provisional_due_date"],
    ),
    (
        "library.returns",
        &[
            "kiosk/tests/settings.rs::returns",
            "kiosk/core/tests/returns_session.rs::returns_are_offered_only_where_the_library_turned_them_on",
        ],
    ),
    (
        "printer.receipt_shows_patron",
        &[
            "tests/tests/journeys.rs::a_library_that_asks_for_it_prints_the_masked_patron_number_on_the_receipt",
            "tests/tests/journeys.rs::a_patron_borrows_three_books_takes_a_receipt_and_the_card",
            "sim/tests/printer_labels.rs::receipt_shows_only_a_masked_patron_number_when_turned_on",
        ],
    ),
    (
        "label.method_d",
        &[
            "tests/tests/journeys.rs::a_library_card_patron_borrows_and_a_method_d_label_works_today",
            "tests/tests/counter.rs::staff_link_a_card_then_every_method_hands_the_number_off",
            "kiosk/core/tests/patron_session.rs::method_d_label_print_and_login",
        ],
    ),
    (
        "label.token_key_file",
        &["tests/tests/journeys.rs::a_library_card_patron_borrows_and_a_method_d_label_works_today"],
    ),
    ("io.backend", &["kiosk/tests/cli.rs::run_with_only_simulated_devices_points_to_the_demo"]),
    (
        "admin.staff_pin_hash",
        &[
            "tests/tests/journeys.rs::wrong_pin_twice_then_right_and_a_locked_card_calls_staff_who_reset_the_kiosk",
            "tests/tests/journeys.rs::a_staff_card_asks_for_the_staff_pin_and_logs_no_patron_in",
        ],
    ),
    ("admin.lockout_attempts", &["kiosk/tests/settings.rs::staff_pin_lockout"]),
    ("admin.lockout_s", &["kiosk/tests/settings.rs::staff_pin_lockout"]),
    ("session.idle_timeout_s", &["kiosk/tests/settings.rs::idle_timeout_and_warning"]),
    ("session.warning_s", &["kiosk/tests/settings.rs::idle_timeout_and_warning"]),
    ("session.pin_idle_timeout_s", &["kiosk/tests/settings.rs::pin_idle_timeout"]),
    ("session.take_card_alarm_s", &["kiosk/tests/settings.rs::take_card_alarm"]),
    ("scanner.kind", &["tests/tests/journeys.rs::a_patron_borrows_three_books_takes_a_receipt_and_the_card"]),
    ("scanner.device", &["drivers/scanner/tests/serial_pty.rs::opening_the_port_by_path_at_a_baud_rate"]),
    (
        "scanner.path",
        &[
            "tests/tests/journeys.rs::a_patron_borrows_three_books_takes_a_receipt_and_the_card",
            "drivers/scanner/tests/fifo.rs::a_fifo_delivers_lines_and_survives_writers_coming_and_going",
        ],
    ),
    ("scanner.terminator", &["drivers/scanner/tests/serial_pty.rs::a_tab_terminated_scanner"]),
    (
        "scanner.debounce_ms",
        &[
            "drivers/scanner/src/debounce.rs::tests::zero_window_drops_nothing",
            "drivers/scanner/src/debounce.rs::tests::a_held_barcode_stays_one_scan",
        ],
    ),
    (
        "scanner.library_card_prefix",
        &[
            "kiosk/core/src/scan/classify.rs::tests::library_cards_are_13_or_14_digits_with_the_prefix",
            "kiosk/core/src/scan/classify.rs::tests::empty_library_card_prefix_takes_any_13_or_14_digits",
        ],
    ),
    (
        "scanner.staff_card_prefix",
        &[
            "tests/tests/journeys.rs::a_staff_card_asks_for_the_staff_pin_and_logs_no_patron_in",
            "kiosk/core/src/scan/classify.rs::tests::staff_cards_only_when_configured_and_before_library_cards",
        ],
    ),
    (
        "counter.check_revocation",
        &["kiosk/core/tests/counter_session.rs::pin_and_revocation_check_are_each_optional_at_the_counter"],
    ),
    (
        "counter.methods",
        &[
            "kiosk/core/tests/counter_session.rs::a_method_the_library_did_not_enable_is_ignored",
            "kiosk/core/tests/counter_session.rs::only_methods_a_and_b_put_the_number_in_the_view",
            "kiosk/core/tests/counter_session.rs::method_c_types_once_and_a_missing_keyboard_leaves_a_b_d",
        ],
    ),
    ("counter.show_s", &["kiosk/tests/settings.rs::counter_number_shown_for"]),
    (
        "security.tpm",
        &[
            "tests/tests/security.rs::the_journal_key_is_sealed_to_the_board_s_tpm_and_opens_on_no_other_board",
        ],
    ),
    (
        "counter.keyboard_device",
        &[
            "tests/tests/counter.rs::staff_link_a_card_then_every_method_hands_the_number_off",
            "tests/tests/counter.rs::a_missing_usb_keyboard_is_shown_and_the_other_methods_still_work",
        ],
    ),
];

/// Keys whose effect no test shows yet, and what is missing.
const PENDING: &[(&str, &str)] = &[
    ("printer.vendor_id", "no USB printer in the tests"),
    ("printer.product_id", "no USB printer in the tests"),
    (
        "printer.baud",
        "a pseudo-terminal does not show the line speed set through termios2; a real serial port would",
    ),
    ("io.lamp_pin", "GPIO lines exist only on the board; no test shows the configured line switched"),
    ("io.buzzer_pin", "GPIO lines exist only on the board; no test shows the configured line switched"),
    (
        "io.gate_pin",
        "the gate is released for each book lent (the twelve-books journey reads it), but GPIO lines exist only on the board: no test shows the configured line switched",
    ),
    ("desensitizer.pulse_pin", "GPIO lines exist only on the board; the simulated unit counts its pulses"),
    ("desensitizer.book_present_pin", "GPIO lines exist only on the board; the simulated unit has no sensor"),
    ("desensitizer.pulse_ms", "the pulse's length is a GPIO line's; the simulated unit has none"),
    (
        "desensitizer.wait_s",
        "the wait is for the book sensor, which only a GPIO unit has (the waiting itself is tested on the simulated unit in kiosk-io)",
    ),
    ("scanner.baud", "a pseudo-terminal ignores the line speed"),
    ("scanner.layout", "the key maps are tested, but not chosen through the config"),
    ("counter.keyboard_layout", "the patron numbers typed in the tests are the same keys on both layouts"),
];

#[test]
fn every_key_has_a_test_of_its_effect_or_says_why_not_yet() {
    let accepted: BTreeSet<String> = kiosk::config::every_key().map(|(s, k)| format!("{s}.{k}")).collect();
    assert!(accepted.len() > 80, "{} keys", accepted.len());
    let shown: BTreeSet<String> = EFFECTS.iter().map(|(k, _)| (*k).to_owned()).collect();
    let pending: BTreeSet<String> = PENDING.iter().map(|(k, _)| (*k).to_owned()).collect();
    let mut problems = Vec::new();
    for key in &accepted {
        match (shown.contains(key), pending.contains(key)) {
            (false, false) => problems.push(format!("{key}: no test of its effect and no reason why not")),
            (true, true) => problems.push(format!("{key}: both shown and pending")),
            _ => {}
        }
    }
    for key in shown.iter().chain(&pending) {
        if !accepted.contains(key) {
            problems.push(format!("{key}: the config reader does not accept it"));
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (key, tests) in EFFECTS {
        assert!(!tests.is_empty(), "{key}");
        for test in *tests {
            let (file, path) = test.split_once("::").expect("file::function");
            let function = path.rsplit("::").next().unwrap_or(path);
            let source = std::fs::read_to_string(root.join(file)).unwrap_or_default();
            if !source.contains(&format!("fn {function}(")) {
                problems.push(format!("{key}: no test {function} in {file}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
