// Swedish: du-tilltal; "postlåda" and "katalog" as in Microsoft's Swedish admin texts, "ärende" for ticket.
// Menu names in Google's and Microsoft's consoles are kept in English in parentheses, since many admins run
// those consoles in English.
import type { Catalog } from './catalog.js';

export const sv: Catalog = {
  'site.name': 'Anslutning av postlådor till helpdesken',
  'site.skip': 'Hoppa till huvudinnehållet',
  'site.languages': 'Språk',

  'common.never': 'Aldrig',
  'common.noActions': 'Inga åtgärder tillgängliga',
  'common.notActive': 'Inte aktiv',
  'common.noAddress': 'Adressen är inte längre tillgänglig',
  'common.backToStatus': 'Tillbaka till dina postlådor',

  'provider.gmail': 'Gmail',
  'provider.graph': 'Microsoft 365',

  'state.connected': 'Ansluten',
  'state.reauthorization_required': 'Ny auktorisering krävs',
  'state.disconnected': 'Frånkopplad',

  'connect.google': 'Anslut Google Workspace eller Gmail',
  'connect.microsoft': 'Anslut Microsoft 365',

  'landing.title': 'Anslut en postlåda',
  'landing.heading': 'Anslut en postlåda för {tenant}',
  'landing.intro':
    'Du har bjudits in att ansluta en supportpostlåda för {tenant} till helpdesken. När den är ansluten blir e-post som kommer in till den ärenden, och ditt teams svar skickas från samma adress.',
  'landing.does.heading': 'Vad anslutningen gör',
  'landing.does.tickets': 'Ny e-post i postlådan blir ett ärende eller läggs till i ärendet för den konversation den hör till.',
  'landing.does.replies': 'Svar som skrivs i helpdesken skickas från postlådan, så att era kunder ser er vanliga adress.',
  'landing.does.control': 'Under din session kan du se status för postlådan, ansluta den igen och koppla från den på de här sidorna.',
  'landing.providers.heading': 'Välj e-postleverantör',
  'landing.providers.intro': 'Här ser du exakt vilken åtkomst varje leverantör kommer att be dig godkänna.',
  'landing.expires': 'Inbjudan upphör att gälla den {datetime}.',
  'landing.once': 'Inbjudan kan bara användas en gång. Den startar en session på högst 8 timmar i den här webbläsaren.',

  'promises.heading': 'Så skyddas e-posten',
  'promises.encryption':
    'E-posten krypteras i vila med AES-256, med nycklar som hanteras i AWS Key Management Service (KMS), och överförs bara via krypterade anslutningar (TLS).',
  'promises.logging': 'Varje åtkomst till postlådans data loggas.',
  'promises.isolation':
    'Ingen annan kund kan se den, och den lämnas inte till någon annan tjänst än din e-postleverantör och Amazon Web Services (AWS), där den lagras och behandlas.',
  'promises.deletion':
    'När du kopplar från en postlåda raderas all dess data från våra aktiva system inom 30 dagar, och säkerhetskopior som innehåller den är borta inom ett år.',

  'access.google.heading': 'Google Workspace eller Gmail',
  'access.google.intro': 'Du loggar in med postlådans eget Google-konto och godkänner två behörigheter för Gmail:',
  'access.google.read':
    'Läsa postlådan (Gmails skrivskyddade omfång, gmail.readonly): dess meddelanden, ändringshistoriken och aviseringar om ny e-post.',
  'access.google.send': 'Skicka svar som postlådan (Gmails omfång för att skicka, gmail.send).',
  'access.google.limit': 'Ingen av behörigheterna låter oss ändra eller radera något i postlådan.',
  'access.microsoft.intro': 'En administratör för er Microsoft Entra-katalog ger helpdesken två programbehörigheter i Microsoft Graph:',
  'access.microsoft.read': 'Mail.ReadWrite: läsa e-posten i de postlådor du anger och skriva de utkast som ditt teams svar skickas genom. Vi ändrar eller raderar inte din e-post.',
  'access.microsoft.send': 'Mail.Send: skicka svar som de postlådorna.',
  'access.microsoft.limit':
    'Microsoft ger behörigheterna för hela katalogen. Vi använder dem bara för de postlådor du anger i nästa steg, och er Exchange-administratör kan dessutom begränsa appen till just de postlådorna.',

  'googleNotice.heading': 'Google: det här kan du förvänta dig',
  'googleNotice.restricted':
    'Läsning av Gmail är ett begränsat omfång (restricted scope): innan en app som använder det får erbjudas till allmänheten kräver Google en verifiering och en oberoende säkerhetsbedömning.',
  'googleNotice.testing':
    'Så länge appens OAuth-samtyckesskärm har statusen ”Testing” avslutar Google appens åtkomst efter 7 dagar (uppdateringstoken slutar fungera), och postlådan ber dig då att ansluta den igen.',
  'googleNotice.trusted':
    'I Google Workspace kan en administratör först behöva markera appen som betrodd i administratörskonsolen (Security › API controls) innan användarna kan ge den åtkomst.',
  'googleNotice.link': 'Varför Google ber om detta',

  'status.title': 'Dina postlådor',
  'status.heading': 'Postlådor för {tenant}',
  'status.caption': 'Postlådor och deras anslutning',
  'status.col.provider': 'Leverantör',
  'status.col.address': 'Adress',
  'status.col.state': 'Anslutning',
  'status.col.lastNotified': 'Senaste avisering om ny e-post',
  'status.col.lastSynced': 'Senaste synkronisering',
  'status.col.watchExpires': 'Aviseringsprenumerationen upphör',
  'status.col.actions': 'Åtgärder',
  'status.purgeBy': 'All data raderad senast {date}',
  'status.reconnect': 'Anslut igen',
  'status.disconnect': 'Koppla från',
  'status.empty': 'Ingen postlåda är ansluten ännu.',
  'status.connectFirst': 'Anslut en postlåda',
  'status.connectAnother': 'Anslut ytterligare en postlåda',
  'status.session': 'Din session upphör den {datetime}. Därefter behöver du en ny inbjudningslänk för att komma tillbaka.',
  'status.signOut': 'Logga ut',
  'signedOut.title': 'Du är utloggad',
  'signedOut.text': 'Den här webbläsaren har inte längre åtkomst till dina postlådor. Be personen som bjöd in dig om en ny inbjudningslänk för att hantera dem igen.',
  'status.microsoft.heading': 'Ta bort åtkomsten till Microsoft 365 helt',
  'status.microsoft.text':
    'När du kopplar från en postlåda upphör vår åtkomst till den. För att ta bort appens åtkomst till er katalog helt tar en global administratör eller en administratör för privilegierade roller bort appen i administrationscentret för Microsoft Entra, under Företagsprogram (Enterprise applications).',

  'notice.connected': 'Postlådan är ansluten. Ny e-post i den blir nu ärenden.',
  'notice.reconnected': 'Postlådan är ansluten igen.',
  'notice.disconnected': 'Postlådan är frånkopplad. Dess data raderas senast det datum som visas nedan.',
  'notice.microsoft_consented': 'Åtkomst till Microsoft 365 har beviljats för er katalog. Dina postlådor visas nedan.',

  'msMailboxes.title': 'Välj postlådor i Microsoft 365',
  'msMailboxes.heading': 'Välj vilka postlådor som ska anslutas',
  'msMailboxes.consented':
    'Medgivande har lämnats för Microsoft Entra-katalogen för {tenant}. Ange nu vilka postlådor helpdesken ska läsa och svara från; behörigheterna används inte för någon annan postlåda.',
  'msMailboxes.domains.heading': 'Verifierade domäner',
  'msMailboxes.domains.intro': 'Varje adress måste höra till någon av katalogens verifierade domäner:',
  'msMailboxes.domains.none':
    'Er katalog har inga verifierade domäner, så ingen postlåda kan anslutas ännu. Lägg till och verifiera en domän i administrationscentret för Microsoft Entra och börja sedan om.',
  'msMailboxes.label': 'Postlådornas adresser',
  'msMailboxes.hint': 'En adress per rad, eller separerade med kommatecken; högst 20 åt gången.',
  'msMailboxes.refused.heading': 'Några adresser godtogs inte',
  'msMailboxes.refused.intro': 'Rätta eller ta bort de här adresserna och skicka sedan listan igen:',
  'msMailboxes.submit': 'Anslut de här postlådorna',
  'refused.domain_not_verified': 'Domänen är inte någon av katalogens verifierade domäner.',
  'refused.invalid_address': 'Det här är inte en giltig e-postadress.',
  'refused.mailbox_in_use': 'Postlådan är redan ansluten till en annan helpdesk.',
  'refused.provider_error': 'Microsoft 365 kunde inte bekräfta postlådan. Kontrollera att den finns i Exchange Online och försök sedan igen.',

  'disconnect.title': 'Koppla från en postlåda',
  'disconnect.heading': 'Vill du koppla från den här postlådan?',
  'disconnect.what': 'Det här händer när du kopplar från',
  'disconnect.notifications': 'Vi slutar ta emot aviseringar om ny e-post, så inga nya ärenden skapas från postlådan.',
  'disconnect.access': 'Vår åtkomst tas bort: de lagrade token raderas, och helpdesken kan inte längre läsa e-post eller skicka e-post som postlådan.',
  'disconnect.data': 'Postlådans ärenden, meddelanden och bilagor döljs direkt och raderas från våra aktiva system senast {date}.',
  'disconnect.backups': 'Kopior i säkerhetskopiorna försvinner inom ett år.',
  'disconnect.untouched': 'Själva e-posten i postlådan ändras inte.',
  'disconnect.final': 'Det går inte att ångra.',
  'disconnect.confirm': 'Koppla från och radera',
  'disconnect.cancel': 'Avbryt och gå tillbaka till dina postlådor',

  'error.invite_invalid.title': 'Inbjudningslänken är inte giltig',
  'error.invite_invalid.text':
    'Länken kan vara ofullständig. Kopiera hela länken från inbjudningsmejlet, eller be den som skickade inbjudan om en ny.',
  'error.invite_expired.title': 'Inbjudan har gått ut',
  'error.invite_expired.text': 'En inbjudan gäller bara en begränsad tid. Be den som skickade den om en ny inbjudan.',
  'error.invite_used.title': 'Inbjudan har redan använts',
  'error.invite_used.text': 'Varje inbjudan fungerar bara en gång. Be den som skickade den om en ny inbjudan.',
  'error.invite_revoked.title': 'Inbjudan har dragits tillbaka',
  'error.invite_revoked.text': 'Inbjudan har återkallats. Om du fortfarande behöver ansluta en postlåda kan du be den som skickade den om en ny inbjudan.',
  'error.session_expired.title': 'Din session har upphört',
  'error.session_expired.text':
    'En session varar högst 8 timmar och kräver att webbläsaren tillåter cookies. Be den som bjöd in dig om en ny inbjudningslänk för att fortsätta.',
  'error.state_invalid.title': 'Inloggningen kunde inte kopplas till din session',
  'error.state_invalid.text':
    'Inloggningen kan ha startats i en annan webbläsare, en annan flik eller från en äldre sida. Börja om anslutningen från den här webbläsaren.',
  'error.state_replayed.title': 'Inloggningen är redan slutförd',
  'error.state_replayed.text':
    'Svaret från inloggningssidan har redan använts, till exempel efter att du gått tillbaka eller laddat om sidan. Kontrollera dina postlådor eller börja om anslutningen.',
  'error.state_expired.title': 'Inloggningen tog för lång tid',
  'error.state_expired.text': 'En inloggning måste slutföras inom en begränsad tid. Börja om anslutningen.',
  'error.access_denied.title': 'Anslutningen avbröts',
  'error.access_denied.text': 'Ingen åtkomst godkändes på inloggningssidan, så ingenting har anslutits. Du kan börja om när du vill.',
  'error.redirect_mismatch.title': 'Inloggningen kunde inte slutföras',
  'error.redirect_mismatch.text':
    'E-postleverantören godtog inte inloggningen från den här webbplatsen. Börja om anslutningen; om det fortsätter att misslyckas kan du kontakta den som bjöd in dig.',
  'error.wrong_directory.title': 'Medgivandet gavs för en annan katalog',
  'error.wrong_directory.text':
    'Administratörsmedgivandet kom från en annan Microsoft Entra-katalog än den du loggade in i. Logga in med ett administratörskonto i den katalog där postlådorna finns och börja om.',
  'error.not_admin.title': 'Ett administratörskonto behövs',
  'error.not_admin.text':
    'Bara en global administratör eller en administratör för privilegierade roller i er Microsoft Entra-katalog kan bevilja de här behörigheterna. Logga in med ett sådant konto, eller be någon med den rollen att slutföra steget.',
  'error.wrong_account.title': 'Du loggade in med ett annat konto',
  'error.wrong_account.text':
    'Det här steget måste bekräftas genom att du loggar in med postlådans eget konto (för Microsoft 365 en administratör i dess katalog). Logga in med det kontot och försök igen.',
  'error.csrf.title': 'Formuläret kunde inte tas emot',
  'error.csrf.text': 'Av säkerhetsskäl slutar formulär att gälla efter en stund. Gå tillbaka, ladda om sidan och försök igen.',
  'error.mailbox_in_use.title': 'Postlådan är redan ansluten på annat håll',
  'error.mailbox_in_use.text': 'Postlådan är ansluten till en annan helpdesk. Koppla först från den där, eller välj en annan postlåda.',
  'error.internal_error.title': 'Något gick fel hos oss',
  'error.internal_error.text': 'Begäran kunde inte slutföras. Vänta några minuter och försök igen; om det fortsätter att hända, kontakta den som bjöd in dig.',
  'error.provider_error.title': 'E-postleverantören kunde inte slutföra begäran',
  'error.provider_error.text':
    'Google eller Microsoft svarade inte som väntat. Vänta några minuter och försök igen; om det fortsätter kan du kontakta den som bjöd in dig.',
  'error.not_found.title': 'Sidan hittades inte',
  'error.not_found.text': 'Det finns ingen sida på den här adressen. Kontrollera länken du följde.',
  'error.bad_request.title': 'Begäran kunde inte behandlas',
  'error.bad_request.text': 'Något i begäran saknades eller var ogiltigt. Gå tillbaka och försök igen.',

  // Ärendevisningen i npm start (/tickets).
  'viewer.site.name': 'Ärendevisning',
  'viewer.site.readOnly': 'Endast läsning, för operatören av den här datorn. Varje visning registreras i åtkomstloggen.',
  'viewer.back': 'Tillbaka till alla ärenden',
  'viewer.noSubject': '(inget ämne)',

  'viewer.col.subject': 'Ämne',
  'viewer.col.requester': 'Beställare',
  'viewer.col.mailbox': 'Postlåda',
  'viewer.col.lastActivity': 'Senaste aktivitet',
  'viewer.col.messages': 'Meddelanden',

  'viewer.list.title': 'Alla ärenden',
  'viewer.list.heading': 'Ärenden för organisationen {tenant}',
  'viewer.list.intro': 'Senaste aktivitet först. Öppna ett ärende för att läsa konversationen och bilagorna.',
  'viewer.list.caption': 'Ärenden, senaste aktivitet först',
  'viewer.list.range': 'Ärende {from} till {to} av {total}',
  'viewer.list.empty':
    'Det finns inga ärenden ännu. Lägg en .eml-fil i inkorgsmappen som npm start skrev ut, eller skicka e-post till en postlåda i sandlådan.',
  'viewer.list.pages': 'Fler ärenden',
  'viewer.list.newer': 'Nyare ärenden',
  'viewer.list.older': 'Äldre ärenden',

  'viewer.ticket.opened': 'Öppnat',
  'viewer.ticket.logged': 'Att du öppnade det här ärendet har registrerats i åtkomstloggen.',
  'viewer.ticket.thread': 'Meddelanden ({count}), äldsta först',

  'viewer.message.heading': 'Meddelande {number} av {total}',
  'viewer.message.outbound': 'Skickat av helpdesken',
  'viewer.message.from': 'Från',
  'viewer.message.to': 'Till',
  'viewer.message.cc': 'Kopia till',
  'viewer.message.sent': 'Skickat',
  'viewer.message.received': 'Mottaget',
  'viewer.message.noDate': 'Meddelandet saknar datum',
  'viewer.message.nobody': 'Inga mottagare',

  'viewer.notices.heading': 'Anmärkningar',

  'viewer.notice.unparsed': 'Meddelandet kunde inte läsas helt. Originalet sparas åt operatören.',
  'viewer.notice.message_truncated': 'Meddelandet var större än storleksgränsen. Allt efter gränsen har tagits bort.',
  'viewer.notice.header_too_large': 'Ett rubrikblock var större än gränsen. Läsningen avbröts där.',
  'viewer.notice.too_many_parts': 'Meddelandet har fler delar än gränsen tillåter. Delarna efter gränsen hoppades över.',
  'viewer.notice.nesting_too_deep': 'Meddelandet är för djupt nästlat. De innersta delarna hoppades över.',
  'viewer.notice.attachment_too_large': 'En bilaga var större än gränsen och sparades inte.',
  'viewer.notice.too_many_attachments': 'Meddelandet hade fler bilagor än gränsen tillåter. Resten sparades inte.',
  'viewer.notice.attachment_infected': 'En bilaga innehåller skadlig kod. Den sparades inte och erbjuds aldrig för nedladdning.',
  'viewer.notice.attachment_unscanned': 'En bilaga har inte klarat någon virussökning. Den hålls kvar tills en sökning godkänner den.',
  'viewer.notice.message_id_synthesized': 'Meddelandet saknade Message-ID. Ett skapades utifrån innehållet.',
  'viewer.notice.new_participant': 'En ny person har anslutit till konversationen.',
  'viewer.notice.text_not_derived': 'Ingen ren textversion kunde skapas av meddelandet. Dess HTML-version sparas.',
  'viewer.notice.unknown': 'Något i det här meddelandet behöver uppmärksamhet.',

  'viewer.body.heading': 'Innehåll i meddelande {number}',
  'viewer.body.frameTitle': 'Meddelande {number}, HTML-version',
  'viewer.body.isolated':
    'Visas i en isolerad ram: skript, formulär, stilar och externa bilder har tagits bort, och länkar kan inte öppnas härifrån.',
  'viewer.body.plainText': 'Textversion',
  'viewer.body.empty': 'Meddelandet innehåller ingen text.',

  'viewer.attachments.caption': 'Bilagor till meddelande {number}',
  'viewer.attachments.col.filename': 'Filnamn',
  'viewer.attachments.col.type': 'Filtyp',
  'viewer.attachments.col.size': 'Storlek',
  'viewer.attachments.col.scan': 'Virussökning',
  'viewer.attachments.col.download': 'Ladda ned',
  'viewer.attachments.download': 'Ladda ned',
  'viewer.attachments.inline': 'Inbäddad i meddelandet',

  'viewer.scan.clean': 'Ren',
  'viewer.scan.infected': 'Infekterad',
  'viewer.scan.infectedWith': 'Infekterad ({signature})',
  'viewer.scan.unscanned': 'Inte genomsökt',
  'viewer.scan.pending': 'Sökning pågår',

  'viewer.blocked.infected': 'Inte tillgänglig: filen är infekterad och sparades inte.',
  'viewer.blocked.unscanned': 'Inte tillgänglig förrän den har klarat en virussökning.',
  'viewer.blocked.pending': 'Inte tillgänglig medan virussökningen pågår.',
  'viewer.blocked.too_large': 'Inte tillgänglig: filen var större än storleksgränsen och sparades inte.',
  'viewer.blocked.not_kept': 'Inte tillgänglig: filen sparades inte.',

  'viewer.error.unauthorized.title': 'Logga in med länken från npm start',
  'viewer.error.unauthorized.text':
    'Ärendevisningen är bara till för operatören av den här datorn. Öppna inloggningslänken som npm start skrev ut i sin terminal. En session varar i 8 timmar.',
  'viewer.error.link_invalid.title': 'Den här inloggningslänken kan inte användas',
  'viewer.error.link_invalid.text':
    'Varje inloggningslänk fungerar en gång, i en webbläsare, tills npm start stoppas. Öppna länken från terminalen där npm start körs nu, eller starta om npm start för att få en ny.',
  'viewer.error.not_found.title': 'Hittades inte',
  'viewer.error.not_found.text':
    'Det finns inget ärende och ingen bilaga på den här adressen, eller så visas de inte längre (postlådan kan ha kopplats från, eller beställaren kan ha begärt begränsning).',
  'viewer.error.not_servable.title': 'Bilagan kan inte laddas ned',
  'viewer.error.not_servable.text': 'Bara bilagor som har klarat virussökningen och sparats kan laddas ned.',
  'viewer.error.misdirected.title': 'Öppna ärendevisningen på dess lokala adress',
  'viewer.error.misdirected.text':
    'Ärendevisningen svarar bara på 127.0.0.1 eller localhost, på porten som npm start skrev ut. Öppna länken från dess terminal.',
  'viewer.error.read_only.title': 'Ärendevisningen är skrivskyddad',
  'viewer.error.read_only.text': 'Den visar ärenden och kan inte ändra något. Gå tillbaka och öppna sidan igen.',
  'viewer.error.internal.title': 'Sidan kunde inte visas',
  'viewer.error.internal.text': 'Något gick fel på den här datorn. Försök igen; om det fortsätter, titta i terminalen där npm start körs.',
};
