//! The catalogues' words, easy Japanese's readings, where text may break and what each
//! prompt says.

mod furigana {
    use kiosk_text::furigana::*;

    #[test]
    fn readings_go_in_parentheses_on_screen_and_alone_in_speech() {
        let t = "｜本《ほん》を ｜図書館《としょかん》で かります";
        assert_eq!(parenthesised(t), "本\u{2060}（ほん）を 図書館\u{2060}（としょかん）で かります");
        assert_eq!(spoken(t), "ほんを としょかんで かります");
        assert!(kanji_without_reading(t).is_empty());
    }

    #[test]
    fn without_the_bar_the_base_is_the_kanji_run_before_the_reading() {
        assert_eq!(spoken("カードの暗証番号《あんしょうばんごう》です"), "カードのあんしょうばんごうです");
        assert_eq!(parenthesised("｜1月《いちがつ》"), "1月\u{2060}（いちがつ）");
        assert_eq!(
            parenthesised_unbroken("｜1月《いちがつ》"),
            "1月\u{2060}（い\u{2060}ち\u{2060}が\u{2060}つ）"
        );
    }

    #[test]
    fn unreadable_marks_stay_text_and_bare_kanji_are_found() {
        assert_eq!(spoken("《だけ》"), "《だけ》");
        assert_eq!(spoken("かな《"), "かな《");
        assert_eq!(kanji_without_reading("本を ｜借《か》ります"), vec!['本']);
        assert_eq!(parenthesised("{n}さつ"), "{n}さつ");
        assert_eq!(plain("｜本日《ほんじつ》は図書館《としょかん》で"), "本日は図書館で");
    }
}

mod phrases {
    use kiosk_text::phrases::*;

    #[test]
    fn spaced_words_break_only_at_their_spaces() {
        let j = WORD_JOINER;
        assert_eq!(keep_words("ほんを かります"), format!("ほ{j}ん{j}を か{j}り{j}ま{j}す"));
        assert_eq!(keep_words("a"), "a");
        assert_eq!(keep_words(&format!("か{j}な")), format!("か{j}な"), "no joiner twice");
        // A placeholder stays whole, or it would be shown as written ("{n}さつ").
        assert_eq!(keep_words("{n}さつ {0}"), format!("{{n}}{j}さ{j}つ {{0}}"));
    }

    /// What the screens get from every catalogue (its words kept together, its readings
    /// in parentheses) fills in the same placeholders as what is written.
    #[test]
    fn every_placeholder_survives_what_the_build_does_to_the_catalogues() {
        use kiosk_core::scene::Language;
        let holes = |t: &str| -> Vec<String> {
            let mut out = Vec::new();
            let mut rest = t;
            while let Some(open) = rest.find('{') {
                let Some(close) = rest[open..].find('}') else { break };
                out.push(rest[open..open + close + 1].to_owned());
                rest = &rest[open + close + 1..];
            }
            out
        };
        let furigana = include_str!("../../translations/ja-furigana/LC_MESSAGES/kiosk-ui.po");
        let sources = [
            (kiosk_text::words::source(Language::Japanese), 0),
            (kiosk_text::words::source(Language::EasyJapanese), 1),
            (furigana, 2),
        ];
        let mut checked = 0;
        for (po, how) in sources {
            for line in po.lines().filter(|l| l.starts_with("msgstr")) {
                let Some((_, text)) = line.split_once(" \"") else { continue };
                let text = text.trim_end_matches('"');
                let shown = match how {
                    0 => keep_phrases(text),
                    1 => keep_words(&kiosk_text::furigana::parenthesised(text)),
                    _ => kiosk_text::furigana::parenthesised_unbroken(text),
                };
                let plain = kiosk_text::furigana::plain(text);
                assert_eq!(holes(&shown), holes(&plain), "{text:?} → {shown:?}");
                checked += holes(&plain).len();
            }
        }
        assert!(checked > 100, "{checked} placeholders");
    }

    fn shown(s: &str) -> String {
        s.replace(WORD_JOINER, "·")
    }

    #[test]
    fn words_numbers_and_endings_stay_whole() {
        assert_eq!(shown(&keep_phrases("数秒かかることがあります。")), "数·秒かかることがあ·り·ま·す。");
        assert_eq!(shown(&keep_phrases("市区町村の窓口で")), "市·区·町·村の窓·口で");
        assert_eq!(shown(&keep_phrases("設定ファイルに")), "設·定フ·ァ·イ·ルに");
        assert_eq!(shown(&keep_phrases("数字4桁")), "数·字4·桁");
        assert_eq!(shown(&keep_phrases("を入力してください")), "を入·力し·て·く·だ·さ·い");
    }

    #[test]
    fn long_runs_may_still_break_and_other_text_is_untouched() {
        // 11 kanji: breakable, or a narrow box could not hold it.
        assert_eq!(keep_phrases("利用者証明用電子証明書"), "利用者証明用電子証明書");
        assert_eq!(keep_phrases("Place your card on the reader."), "Place your card on the reader.");
        assert_eq!(keep_phrases(""), "");
    }
}

mod prompts {
    use kiosk_core::scene::Language;
    use kiosk_text::prompts::*;

    #[test]
    fn every_prompt_speaks_every_language_from_the_catalogue() {
        let keys = keys();
        assert!(keys.len() > 40, "{}", keys.len());
        let unique: std::collections::BTreeSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len(), "keys are unique");
        for language in Language::ALL {
            for key in &keys {
                let said = spoken(language, key).unwrap();
                assert!(
                    said.iter().all(|s| !s.is_empty() && !s.contains('{')),
                    "{language:?} {key}: {said:?}"
                );
            }
        }
        assert_eq!(
            spoken(Language::English, "pin-wrong-2").unwrap(),
            ["That PIN was wrong.", "2 tries left"]
        );
        assert_eq!(spoken(Language::English, "digits-3").unwrap(), ["3 of 4 digits entered"]);
        assert_eq!(spoken(Language::Japanese, "borrowed-3").unwrap(), ["3冊を貸し出しました"]);
        assert!(spoken(Language::English, "nope").is_none());
        // An ending's notice: its title and its words, the library's card named by the
        // catalogue.
        assert_eq!(
            spoken(Language::English, "notice-expired-card").unwrap(),
            [
                "This card's certificate has expired",
                "It can be renewed at the city office. You can use your library card until then."
            ]
        );
        assert_eq!(spoken(Language::Japanese, "notice-cancelled").unwrap().len(), 1);
    }

    #[test]
    fn a_due_date_is_said_in_each_language_s_own_order_in_its_own_words() {
        let date = kiosk_core::scene::DueDate::parse("2026-12-07").unwrap();
        let said = |language| -> Vec<String> {
            due_date(language, &date).iter().flat_map(|key| spoken(language, key).unwrap()).collect()
        };
        assert_eq!(due_date(Language::Japanese, &date), ["due-back", "month-12", "day-7", "weekday-0"]);
        assert_eq!(said(Language::Japanese), ["返却期限", "12月", "7日", "月曜日"]);
        assert_eq!(said(Language::EasyJapanese), ["かえす ひ", "じゅうにがつ", "なのか", "げつようび"]);
        assert_eq!(said(Language::English), ["Due back", "Monday", "the 7th", "of December"]);
        assert_eq!(said(Language::Portuguese), ["Devolver até", "segunda-feira", "dia 7", "de dezembro"]);
        assert_eq!(said(Language::Vietnamese), ["Hạn trả", "thứ Hai", "ngày 7", "tháng 12"]);
        assert_eq!(said(Language::Korean), ["반납 기한", "12월", "7일", "월요일"]);
        assert_eq!(said(Language::Chinese), ["应还日期", "12月", "7号", "星期一"]);
        // Every day of a year has its pieces in the pack.
        let keys = keys();
        for (month, days) in (1..=12).zip([31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]) {
            for day in 1..=days {
                let date = kiosk_core::scene::DueDate::parse(&format!("2028-{month:02}-{day:02}")).unwrap();
                for key in due_date(Language::English, &date) {
                    assert!(keys.contains(&key), "{key}");
                }
            }
        }
    }

    #[test]
    fn a_title_is_read_by_the_voice_that_reads_its_script() {
        use Language::*;
        for patron in Language::ALL {
            assert_eq!(title_voice(patron, "吾輩は猫である"), None, "Japanese whoever asks");
            assert_eq!(title_voice(patron, "ノルウェイの森"), None);
            assert_eq!(title_voice(patron, "어린 왕자"), Some("ko"));
        }
        assert_eq!(title_voice(Portuguese, "O Pequeno Príncipe"), Some("pt-br"));
        assert_eq!(title_voice(Vietnamese, "Hoàng tử bé"), Some("vi"));
        assert_eq!(title_voice(English, "The Little Prince"), Some("en-us"));
        // Voices that cannot read Latin letters: English reads them.
        for patron in [Japanese, EasyJapanese, Chinese, Korean] {
            assert_eq!(title_voice(patron, "The Little Prince"), Some("en-us"), "{patron:?}");
        }
    }

    #[test]
    fn easy_japanese_is_spoken_from_its_readings() {
        for key in keys() {
            for s in spoken(Language::EasyJapanese, &key).unwrap() {
                let kanji = s.chars().any(|c| ('一'..='鿿').contains(&c));
                assert!(!s.contains('《') && !s.contains('｜') && !kanji, "{key}: {s}");
            }
        }
    }
}

mod words {
    use kiosk_core::scene::Language;
    use kiosk_text::words::*;

    #[test]
    fn words_come_from_the_catalogue_in_each_language() {
        assert_eq!(tr(Language::Japanese, "Due back {}", &["x"]), "返却期限：x");
        assert_eq!(tr(Language::English, "Due back {}", &["x"]), "Due back x");
        assert_eq!(tr_n(Language::English, "{n} book borrowed", "{n} books borrowed", 1), "1 book borrowed");
        assert_eq!(tr_n(Language::English, "{n} book borrowed", "{n} books borrowed", 3), "3 books borrowed");
        assert_eq!(
            tr_n(Language::Japanese, "{n} book borrowed", "{n} books borrowed", 3),
            "3冊を貸し出しました"
        );
        assert_eq!(due_date(Language::Japanese, "2026-12-07"), "12月7日（月）");
        assert_eq!(due_date(Language::English, "2026-12-07"), "Mon 7 Dec");
        assert_eq!(due_date(Language::English, "next week"), "next week");
        assert_eq!(due_date(Language::EasyJapanese, "2026-12-07"), "12がつ7にち（げつようび）");
    }

    #[test]
    fn fill_puts_arguments_by_position_in_turn_and_count() {
        assert_eq!(fill("{2}{1}日（{0}）", &["月", "7", "12月"], None), "12月7日（月）");
        assert_eq!(fill("{} of {}", &["1", "2"], None), "1 of 2");
        assert_eq!(fill("{n}冊", &[], Some(4)), "4冊");
        assert_eq!(fill("{missing} {", &[], None), "{missing} {");
    }
}
